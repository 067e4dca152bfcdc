#include "python_reference.hpp"

#include <cstdio>
#include <sstream>

namespace contrast {

std::vector<Cell> run_python(const std::string& script, const std::vector<std::string>& args,
                             const std::string& workload, const std::string& detail) {
  std::string command = "python3 '" + script + "'";
  for (const std::string& a : args) command += " " + a;
  std::fprintf(stderr, "[python] %s\n", command.c_str());
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::vector<Cell> rows;
  char line[256];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::istringstream in(line);
    Cell c;
    std::string ok;
    if (!(in >> c.model >> c.secs >> ok)) continue;
    c.workload = workload;
    c.correct = ok == "yes";
    c.detail = detail;
    rows.push_back(c);
  }
  if (::pclose(pipe) != 0) {
    std::fprintf(stderr, "[python] %s failed; its rows are left out\n", script.c_str());
    return {};
  }
  double sequential = 0;
  for (const Cell& c : rows) {
    if (c.model == "python-sequential") sequential = c.secs;
  }
  for (Cell& c : rows) {
    if (sequential > 0 && c.secs > 0) c.speedup = sequential / c.secs;
  }
  return rows;
}

}  // namespace contrast
