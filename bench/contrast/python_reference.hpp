// The CPython reference rows: a script run with python3 prints one line per way it ran a workload,
//   python-sequential SECS yes
//   python-threads SECS yes
// (the last word: whether its result was right); each line becomes a Cell, with its speedup over
// the script's own python-sequential line.
#pragma once

#include <string>
#include <vector>

#include "report.hpp"

namespace contrast {

// Runs `python3 SCRIPT ARGS...`; on failure its rows are left out (with a note on stderr).
std::vector<Cell> run_python(const std::string& script, const std::vector<std::string>& args,
                             const std::string& workload, const std::string& detail);

}  // namespace contrast
