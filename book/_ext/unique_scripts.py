"""Each page's scripts once: a work-around for a Sphinx 7 bug, as a local extension.

An extension that adds an inline script (a body and no file) once the HTML builder has
started gets it twice on every page: Sphinx 7 stores the script's file name once as
``None`` and once as ``""``, and so does not see the copy (fixed in Sphinx 8.2,
sphinx-doc/sphinx#13402; Jupyter Book 1 needs Sphinx 7). sphinx-thebe's inline
``const THEBE_JS_URL = ...`` then throws "Identifier 'THEBE_JS_URL' has already been
declared" in every reader's browser, which the browser test reports. This extension
keeps the first of identical scripts on each page.
"""

from __future__ import annotations


def _key(script):
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {})
    return (
        str(filename),
        getattr(script, "priority", 500),
        tuple(sorted(attributes.items())),
    )


def unique_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    # Late, after the extensions that add scripts to a page (MathJax: 500).
    app.connect("html-page-context", unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
