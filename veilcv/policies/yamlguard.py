"""Refuse YAML documents whose aliases would make every later step explode ("billion laughs")."""

from __future__ import annotations

import yaml

#: YAML aliases let a few lines expand to billions of values ("billion laughs"); a document whose
#: aliases add more than this many values to its tree, or that refers to itself, is refused.
MAX_YAML_NODES = 100_000


def yaml_too_big(root: yaml.Node, limit: int = MAX_YAML_NODES) -> str | None:
    """Why the composed document ``root`` is refused (alias bomb or cycle), or None.

    Counts the nodes the document expands to without expanding it (each distinct node once);
    only what aliases add counts against ``limit``, so a large plain document always passes.
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if done:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > limit + len(sizes):
                return f"expected aliases to add at most {limit} YAML values, got more (an alias bomb?)"
            continue
        if key in sizes:
            continue
        visiting.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in visiting:
                return "expected a tree of values, got an alias that refers to itself"
            if id(child) not in sizes:
                stack.append((child, False))
    return None
