"""The web page's scripts: ES modules loaded as they are (no build step), of a readable size,
with one helper for the service's API that the page and uploader.js share."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).parents[2] / "src" / "s3files" / "server" / "static"
MODULES = sorted(STATIC.glob("*.js"))


def test_the_page_loads_its_entry_module_only() -> None:
    html = (STATIC / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script type="module" src="static/main.js">']


def test_modules_are_a_few_hundred_lines_at_most() -> None:
    sizes = {module.name: len(module.read_text().splitlines()) for module in MODULES}
    assert len(sizes) >= 8, sizes
    assert max(sizes.values()) <= 300, sizes


def test_only_api_js_talks_to_the_service() -> None:
    callers = [module.name for module in MODULES if re.search(r"\bfetch\(", module.read_text())]
    assert callers == ["api.js"]
    uploader = (STATIC / "uploader.js").read_text()
    assert 'import { ApiError, request } from "./api.js";' in uploader


def test_every_import_names_a_module_beside_it_and_no_other_origin() -> None:
    for module in MODULES:
        for target in re.findall(r'^import .* from "([^"]+)";$', module.read_text(), re.M):
            assert target.startswith("./"), (module.name, target)
            assert (STATIC / target[2:]).is_file(), (module.name, target)


def test_modules_import_each_other_without_a_cycle() -> None:
    graph = {
        module.name: [
            t[2:] for t in re.findall(r'^import .* from "([^"]+)";$', module.read_text(), re.M)
        ]
        for module in MODULES
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for target in graph[name]:
            visit(target, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())
    assert "main.js" in done and graph["main.js"]
