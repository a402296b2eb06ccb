#!/usr/bin/env python3
"""Print import cycles between the modules (files) of a Rust crate's src/.

Usage: import-cycles.py CRATE_SRC_DIR...  Exit 1 when a cycle exists.
A module is a file; `crate::a::b::c` resolves to the longest existing file
path (a/b.rs or a/b/mod.rs), `super::x` relative to the importing file.
Test modules (`#[cfg(test)] mod … { … }`) are ignored.
"""
import re
import sys
from pathlib import Path


def module_of(src: Path, parts):
    """The longest prefix of `parts` that names a file under src."""
    for n in range(len(parts), 0, -1):
        base = src.joinpath(*parts[:n])
        for candidate in (base.with_suffix(".rs"), base / "mod.rs"):
            if candidate.is_file():
                return candidate
    return None


def strip_tests(text):
    """Drop every `#[cfg(test)] mod … { … }` block (brace-matched)."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod \w+ \{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def own_path(src: Path, f: Path):
    rel = f.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def edges(src: Path):
    graph = {}
    for f in sorted(src.rglob("*.rs")):
        text = f.read_text(encoding="utf-8")
        text = strip_tests(text)
        me = own_path(src, f)
        targets = set()
        for m in re.finditer(r"\b(crate|super)((?:::\w+)+)", text):
            root, rest = m.group(1), m.group(2).split("::")[1:]
            if root == "crate":
                parts = rest
            else:
                # `super` of a.rs / a/mod.rs is the parent module.
                is_mod = f.name in ("mod.rs", "lib.rs", "main.rs")
                parent = me[:-1] if not is_mod or me else me
                if f.name == "mod.rs":
                    parent = me[:-1]
                parts = parent + rest
            target = module_of(src, parts)
            if target and target != f:
                targets.add(target)
        # Nested braces: crate::{a, b::c}
        for m in re.finditer(r"\bcrate::\{([^}]*)\}", text):
            for item in m.group(1).split(","):
                parts = [p for p in item.strip().split("::") if p and p[0].islower()]
                target = module_of(src, parts)
                if target and target != f:
                    targets.add(target)
        graph[f] = targets
    return graph


def cycles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    bad = False
    for arg in sys.argv[1:]:
        src = Path(arg)
        # lib.rs / main.rs only declare modules: leave them out.
        graph = {k: {t for t in v if t.name not in ("lib.rs", "main.rs")}
                 for k, v in edges(src).items() if k.name not in ("lib.rs", "main.rs")}
        found = cycles(graph)
        for comp in found:
            bad = True
            print(f"cycle in {src}: " + ", ".join(sorted(str(p.relative_to(src)) for p in comp)))
        if not found:
            print(f"{src}: no import cycle")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
