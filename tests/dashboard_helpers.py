"""What the dashboard tests share."""

from __future__ import annotations

import ipyvuetify as v
import ipywidgets as widgets


def shown_texts(rc) -> list[str]:
    """Every text shown by an Html element (solara.Text), anywhere in the rendered tree."""
    out, todo = [], [rc.container]
    while todo:
        w = todo.pop()
        children = list(getattr(w, "children", None) or [])
        if isinstance(w, v.Html) and children and isinstance(children[0], str):
            out.append(children[0])
        todo.extend(c for c in children if isinstance(c, widgets.Widget))
    return out
