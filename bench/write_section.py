"""Replaces (or appends) one `## ...` section of BENCHMARKS.md: the benchmark scripts' shared
last step. `write_section(path, heading, block)`; from a shell:
`python3 bench/write_section.py PATH HEADING < block`."""
import os
import re
import sys


def write_section(path, heading, block):
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    pattern = re.compile(r"^" + re.escape(heading) + r"[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as fh:
        fh.write(text.rstrip("\n") + "\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    write_section(sys.argv[1], sys.argv[2], sys.stdin.read())
