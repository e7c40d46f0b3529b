"""Showing text safely: user-entered strings never reach markdown or HTML unescaped.

Streamlit renders ``st.markdown``, ``st.success``/``st.error`` bodies, captions and widget labels as
Markdown (links, images, emphasis, ``:colour[...]`` and LaTeX). Nothing user-entered goes through
``unsafe_allow_html``; where a user-entered string or a core error message (which may quote input) is
shown in such an element, it goes through :func:`md` first. Tables (``st.dataframe``) and widget
options show plain text and need nothing.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character CommonMark lets a backslash escape, which covers Markdown syntax,
# Streamlit's :colour[...] directives and $...$ LaTeX.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&\"'=^@/%;,?])")


def md(value) -> str:
    """``value`` as Markdown that shows exactly its characters (newlines become spaces).

    Examples
    --------
    >>> md("[x](javascript:alert(1)) *b* $\\\\pi$")
    '\\\\[x\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\) \\\\*b\\\\* \\\\$\\\\\\\\pi\\\\$'
    """
    text = " ".join(str("" if value is None else value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)
