#!/usr/bin/env python3
"""Extracts README.md's C++ blocks into translation units, so that the build compiles every one.

Every ```cpp block must sit right under a marker that says how it compiles:

    <!-- compile: program -->                  a whole program: compiled and linked
    <!-- compile: program; expect: TEXT -->    also run by CTest, which expects TEXT in its output
    <!-- compile: WRAPPER -->                  pasted into tests/readme/WRAPPER.cpp, at the line
                                               holding @README_BLOCK@, as a unit of its own
    <!-- compile: WRAPPER#UNIT -->             blocks with the same WRAPPER#UNIT share one unit,
                                               in README order (later blocks use earlier ones)

A block without a marker, or with a marker this script does not know, is an error: no block can
escape the compiler. `#line` directives point compiler errors at README.md's own lines.

Usage: extract_blocks.py README WRAPPER_DIR OUT_DIR
Writes OUT_DIR/readme_*.cpp and OUT_DIR/blocks.cmake, which sets README_PROGRAMS (names),
README_UNITS (sources), and README_EXPECT_<name> for the programs to run.
"""
import pathlib
import re
import sys

MARKER = re.compile(r"^<!--\s*compile:\s*(.*?)\s*-->\s*$")
PLACEHOLDER = "@README_BLOCK@"


def fail(readme, line, why):
    sys.exit(f"{readme}:{line}: {why}")


def blocks(readme):
    """Yields (marker text, first code line number, code lines) for each ```cpp block."""
    lines = pathlib.Path(readme).read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```cpp":
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            if marker is None:
                fail(readme, i + 1, "a ```cpp block without a <!-- compile: ... --> marker on the line above it")
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                fail(readme, i + 1, "a ```cpp block that is never closed")
            yield marker.group(1), i + 2, lines[i + 1 : end]
            i = end
        i += 1


def with_line(readme, first_line, code):
    return f'#line {first_line} "{readme}"\n' + "\n".join(code) + "\n"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    readme = str(pathlib.Path(sys.argv[1]).resolve())
    wrappers = pathlib.Path(sys.argv[2])
    out = pathlib.Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)

    programs = []  # (name, source text, expected text or None)
    units = {}  # "wrapper#unit" -> list of block texts, in README order
    for marker, first_line, code in blocks(readme):
        parts = [p.strip() for p in marker.split(";")]
        if parts[0] == "program":
            expect = None
            for extra in parts[1:]:
                if not extra.startswith("expect:"):
                    fail(readme, first_line - 1, f"unknown program option '{extra}'")
                expect = extra[len("expect:") :].strip()
            programs.append((f"readme_program_{first_line}", with_line(readme, first_line, code), expect))
        elif len(parts) == 1 and re.fullmatch(r"[a-z_]+(#[a-z_]+)?", parts[0]):
            wrapper = parts[0].split("#")[0]
            if not (wrappers / f"{wrapper}.cpp").is_file():
                fail(readme, first_line - 1, f"no wrapper {wrappers / (wrapper + '.cpp')}")
            key = parts[0] if "#" in parts[0] else f"{parts[0]}#line{first_line}"
            units.setdefault(key, []).append(with_line(readme, first_line, code))
        else:
            fail(readme, first_line - 1, f"unknown marker '{marker}'")

    written = []
    for name, text, _ in programs:
        written.append((name, text))
    for key, texts in units.items():
        wrapper, unit = key.split("#")
        path = wrappers / f"{wrapper}.cpp"
        source = path.read_text(encoding="utf-8").split("\n")
        at = [n for n, line in enumerate(source) if PLACEHOLDER in line]
        if len(at) != 1:
            sys.exit(f"{path}: needs exactly one line holding {PLACEHOLDER}")
        n = at[0]
        head = f'#line 1 "{path.resolve()}"\n' + "\n".join(source[:n]) + "\n"
        tail = f'#line {n + 2} "{path.resolve()}"\n' + "\n".join(source[n + 1 :])
        written.append((f"readme_{wrapper}_{unit}", head + "".join(texts) + tail))

    cmake = []
    for name, text in written:
        target = out / f"{name}.cpp"
        # Rewritten only when changed, so that a README edit rebuilds only the blocks it touched.
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    cmake.append("set(README_PROGRAMS " + " ".join(name for name, _, _ in programs) + ")")
    cmake.append("set(README_UNITS " + " ".join(f"{out}/{name}.cpp" for name, _ in written[len(programs) :]) + ")")
    for name, _, expect in programs:
        if expect is not None:
            cmake.append(f"set(README_EXPECT_{name} [=[{expect}]=])")
    (out / "blocks.cmake").write_text("\n".join(cmake) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
