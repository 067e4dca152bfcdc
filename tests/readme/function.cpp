// Wraps README blocks that are statements needing nothing around them: a function's body.
#include <troupe/troupe.hpp>

#include <chrono>

void readme_block() {
  // @README_BLOCK@
}
