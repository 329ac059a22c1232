"""Generate ``docs/api.md``, the Python API reference, from the public names' signatures and docstrings.

Regenerate with ``python -m veilcv._api.apidoc docs/api.md``; a test fails when the committed file
drifts. The docstrings are numpydoc; sections become bold headings and parameter lists bullets.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from veilcv.atomic import write_text

INTRO = """\
# Python API reference

<!-- Generated from the docstrings by `python -m veilcv._api.apidoc docs/api.md`; a test fails when
this file drifts from them. Edit the docstrings, not this file. -->

Everything `veil` does on the command line can be called from Python: a notebook, a training loop, a
web service or a Ray actor. The commands call these same functions, so the two give the same results.

**The surface.** The public API is the names on this page: those exported by `veilcv`, the module
`veilcv.meta` and the exceptions of `veilcv.errors`. A test pins every name and signature, so a
change to them is a deliberate, visible decision. Every other module (`veilcv.core`, `veilcv.linter`,
`veilcv.policies`, `veilcv.store`, `veilcv._api`, ...) is internal and may change in any release.
`import veilcv` is light: each name loads what it needs (numpy, OpenCV, OpenVINO) on first use.

**Threads and reuse.** A `veilcv.Redactor` loads each model once, on first use or at
`Redactor.load()`, and is safe to share: any number of threads may call its methods at once (the
inference and the kernels release the GIL). Build one per process and reuse it; building one per
image reloads the models each time. Results are plain, picklable values.

**Fail-closed.** Every call either returns a verified result or raises a subclass of
`veilcv.errors.VeilcvError`: never a bare `Exception`, never `SystemExit`, never unredacted pixels
or an unverified file. Bad arguments raise `ValidationError`, which is also a `ValueError`.

**Coordinates** are `(x0, y0, x1, y1)` in pixels, half-open. Arrays are `uint8`, `(H, W, 3)` BGR
as OpenCV reads images unless `channels="rgb"` says otherwise.
"""

#: veilcv.meta's names in the order the reference shows them: the functions, then what they return.
META_ORDER = [
    "check",
    "strip",
    "strip_bytes",
    "MetaReport",
    "MetaFinding",
    "StripResult",
    "Family",
    "MetadataError",
]

_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc):`~?([^`]+)`")
_ITEM_SECTIONS = {"Parameters", "Returns", "Raises", "Attributes", "Yields", "Other Parameters"}


def markdown(doc: str) -> str:
    """A numpydoc docstring as Markdown: sections in bold, parameters as bullets, examples as code."""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            section = line.strip()
            out += ["", f"**{section}**", ""]
            i += 2
            continue
        if section == "Examples" and line.strip():
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(re.sub(r"^(>>>|\.\.\.) ?", "", lines[i]))
                i += 1
            out += ["```python", *block, "```"]
            continue
        if section in _ITEM_SECTIONS and line.strip() and not line.startswith(" "):
            name, _, kind = line.partition(" : ")
            words = []
            i += 1
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i].strip()):
                if not lines[i].strip() and (i + 1 >= len(lines) or not lines[i + 1].startswith(" ")):
                    break
                words.append(lines[i].strip())
                i += 1
            head = f"`{name.strip()}` (*{kind.strip()}*)" if kind else f"`{name.strip()}`"
            out.append(f"- {head}" + (f": {_inline(' '.join(words))}" if words else ""))
            continue
        out.append(_inline(line))
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out).strip())


def _inline(text: str) -> str:
    """RST roles and double backticks as Markdown code spans."""
    return re.sub(r"``([^`]+)``", r"`\1`", _ROLE.sub(lambda m: f"`{m.group(1)}`", text))


def signature(name: str, obj: Callable[..., Any], *, skip_self: bool = False) -> str:
    """``name(param: type = default, *, ...) -> type`` with the annotations as written."""
    import veilcv

    sig = inspect.signature(obj)
    parts: list[str] = []
    star = False
    for p in sig.parameters.values():
        if skip_self and p.name == "self":
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        text = ("*" if p.kind is p.VAR_POSITIONAL else "") + p.name
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            shown = "veilcv.__version__" if p.default == veilcv.__version__ else repr(p.default)
            text += f" = {shown}"
        parts.append(text)
    ret = sig.return_annotation
    tail = f" -> {_annotation(ret)}" if ret is not sig.empty and ret not in ("None", None) else ""
    one = f"{name}({', '.join(parts)}){tail}"
    if len(one) <= 100:
        return one
    return f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){tail}"


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


def _fields(cls: type) -> list[str]:
    out = []
    for f in dataclasses.fields(cls):
        default = ""
        if f.default is not dataclasses.MISSING:
            default = f" = {f.default!r}" if f.name != "tool_version" else " = veilcv.__version__"
        elif f.default_factory is not dataclasses.MISSING:
            default = f" = {f.default_factory.__name__}()"
        out.append(f"- `{f.name}: {_annotation(f.type)}{default}`")
    return out


def _class(qualified: str, cls: type) -> list[str]:
    out = [f"### `{qualified}`", ""]
    doc = inspect.getdoc(cls) or ""
    if issubclass(cls, enum.Enum):
        out += [markdown(cls.__doc__), ""] if cls.__doc__ else []
        out += ["**Members**", ""]
        out += [f"- `{m.name}` = `{m.value!r}`" for m in cls]  # type: ignore[attr-defined]
        return [*out, ""]
    if issubclass(cls, BaseException):
        return [*out, f"Subclass of `{cls.__bases__[0].__name__}`. {markdown(doc)}", ""]
    ctor = cls if dataclasses.is_dataclass(cls) else cls.__init__  # type: ignore[misc]
    out += ["```python", signature(qualified, ctor, skip_self=True), "```", "", markdown(doc), ""]
    if dataclasses.is_dataclass(cls) and "Attributes\n" not in doc:
        out += ["**Fields**", "", *_fields(cls), ""]
    for name, member in vars(cls).items():
        if name.startswith("_") or not callable(member):
            continue
        out += [f"#### `{cls.__name__}.{name}`", "", "```python"]
        out += [signature(f"{cls.__name__}.{name}", member, skip_self=True), "```", ""]
        out += [markdown(inspect.getdoc(member) or "(undocumented)"), ""]
    for name, member in vars(cls).items():
        if not name.startswith("_") and isinstance(member, property):
            out += [
                f"#### `{cls.__name__}.{name}` (property)",
                "",
                markdown(inspect.getdoc(member) or ""),
                "",
            ]
    return out


def _function(qualified: str, fn: Callable[..., Any]) -> list[str]:
    return [
        f"### `{qualified}`",
        "",
        "```python",
        signature(qualified, fn),
        "```",
        "",
        markdown(fn.__doc__ or ""),
        "",
    ]


def render() -> str:
    """The whole reference, deterministic for a given source tree."""
    import veilcv
    import veilcv.errors
    import veilcv.meta

    sections: list[tuple[str, str, Any, list[str]]] = [
        ("Redaction", "veilcv", veilcv, ["Redactor", "RedactionResult", "Region", "Detection", "FileResult"]),
        ("Metadata: `veilcv.meta`", "veilcv.meta", veilcv.meta, META_ORDER),
        (
            "Policy checks",
            "veilcv",
            veilcv,
            ["load_policy", "check", "LoadedPolicy", "Report", "Finding", "Severity"],
        ),
    ]
    errors = sorted(
        (
            v
            for n, v in vars(veilcv.errors).items()
            if isinstance(v, type) and issubclass(v, veilcv.errors.VeilcvError)
        ),
        key=lambda c: (len(c.__mro__), c.__name__),
    )
    covered = {n for _, mod, _, names in sections if mod == "veilcv" for n in names}
    missing = set(veilcv.__all__) - covered - {"__version__", "meta", "errors", "VeilcvError"}
    missing |= set(veilcv.meta.__all__) ^ set(META_ORDER)
    if missing:  # every public name must be placed in a section: a new one is a decision here too
        raise RuntimeError(f"docs/api.md: no section lists {sorted(missing)}")
    out = [INTRO, "## Contents", ""]
    for title, _, _, _ in [*sections, ("Errors: `veilcv.errors`", "", None, [])]:
        out.append(f"- [{title.replace('`', '')}](#{_slug(title)})")
    out.append("")
    for title, prefix, module, names in sections:
        out += [f"## {title}", ""]
        if module is veilcv.meta:
            out += [markdown(veilcv.meta.__doc__ or ""), ""]
        for name in names:
            obj = getattr(module, name)
            qualified = f"{prefix}.{name}"
            out += _class(qualified, obj) if isinstance(obj, type) else _function(qualified, obj)
    out += ["## Errors: `veilcv.errors`", "", markdown(veilcv.errors.__doc__ or ""), ""]
    out += ["`veilcv.VeilcvError` is `veilcv.errors.VeilcvError`.", ""]
    for cls in errors:
        out += _class(f"veilcv.errors.{cls.__name__}", cls)
    return "\n".join(out).rstrip() + "\n"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m veilcv._api.apidoc docs/api.md\n")
        return 2
    write_text(args[0], render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
