// This process's threads as /proc shows them, for tests that check what a thread did (slept, used
// CPU time) rather than guess it from timing.
#pragma once

#include <dirent.h>

#include <fstream>
#include <string>
#include <vector>

namespace troupe_test {

// The /proc/self/task directories of this process's threads named `name` (empty if /proc is
// unreadable, which the callers' checks then report).
inline std::vector<std::string> threads_named(const std::string& name) {
  std::vector<std::string> found;
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return found;
  while (dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const std::string dir = std::string("/proc/self/task/") + entry->d_name;
    std::string comm;
    std::getline(std::ifstream(dir + "/comm"), comm);
    if (comm == name) found.push_back(dir);
  }
  ::closedir(tasks);
  return found;
}

}  // namespace troupe_test
