// troupe-contrast's output: the table, the "compare ..." lines, and results.csv / results.json.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace contrast {

// One model's result for one workload (or one CPython reference row).
struct Cell {
  std::string workload;
  std::string model;
  double secs = 0;
  std::optional<double> speedup;  // over the sequential model (CPython rows: over CPython's own)
  bool correct = false;
  std::string detail;
  std::optional<Lateness> lateness;  // hog
};

// On stdout: the table; for hog, a table of the lateness too; then one line per cell:
//   compare workload=cpu model=actors secs=0.412 speedup=1.96 correct=yes
//   compare workload=hog model=gil secs=2.012 speedup=n/a correct=yes p50_ms=0.412 p99_ms=5.630 max_ms=6.100
void print_report(const std::vector<Cell>& cells);

// DIR/results.csv (workload,model,secs,speedup,correct,p50_ms,p99_ms,max_ms,detail; the lateness
// columns empty but for hog) and DIR/results.json (the parameters, then the cells; "lateness"
// null but for hog).
void write_results(const std::string& dir, const Params& p, std::chrono::microseconds io_latency,
                   const std::vector<Cell>& cells);

}  // namespace contrast
