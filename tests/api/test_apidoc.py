"""docs/api.md is generated from the public names' docstrings and signatures, and does not drift."""

from __future__ import annotations

from pathlib import Path

import veilcv
from veilcv._api import apidoc

REPO = Path(__file__).resolve().parents[2]


def test_docs_api_md_is_generated_from_the_docstrings() -> None:
    committed = (REPO / "docs" / "api.md").read_text("utf-8")
    assert committed == apidoc.render(), "docs/api.md drifted: run `python -m veilcv._api.apidoc docs/api.md`"


def test_every_public_name_has_a_section() -> None:
    text = apidoc.render()
    for name in set(veilcv.__all__) - {"__version__", "meta", "errors"}:
        assert f"### `veilcv.{name}`" in text or f"### `veilcv.errors.{name}`" in text, name
    for name in veilcv.meta.__all__:
        assert f"### `veilcv.meta.{name}`" in text, name


def test_numpydoc_becomes_markdown() -> None:
    doc = """Do a thing with ``x``, see :class:`~veilcv.errors.InputError`.

    Parameters
    ----------
    x : int
        The value,
        on two lines.
    flag : bool

    Returns
    -------
    str

    Examples
    --------
    >>> thing(1)
    """
    assert apidoc.markdown(doc).splitlines() == [
        "Do a thing with `x`, see `veilcv.errors.InputError`.",
        "",
        "**Parameters**",
        "",
        "- `x` (*int*): The value, on two lines.",
        "- `flag` (*bool*)",
        "",
        "**Returns**",
        "",
        "- `str`",
        "",
        "**Examples**",
        "",
        "```python",
        "thing(1)",
        "```",
    ]


def test_the_command_writes_the_file(tmp_path: Path) -> None:
    assert apidoc.main([str(tmp_path / "api.md")]) == 0
    assert (tmp_path / "api.md").read_text("utf-8") == apidoc.render()
    assert apidoc.main([]) == 2
