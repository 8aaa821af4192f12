"""Stories: folders of linked pages, published to a pastebin so that every link works.

``load_story`` reads and checks a folder (``loader.py``), ``plan_story``
works out the order and ids (``planner.py``, over ``graph.py`` and
``ids.py``), ``publish`` pastes (``publish.py``) and records what it did in
the manifest (``manifest.py``); ``paste_content`` publishes one page
(``paste.py``, behind ``md5steg paste``). See each module's docstring.
"""

from .errors import CycleError, ManifestError, PublishError, StoryError
from .events import PublishEvent, PublishResult
from .graph import feedback_vertex_set, find_cycle
from .loader import Link, Page, Story, load_story
from .manifest import Manifest, PageRecord, TargetRecord, default_manifest_path, load_manifest
from .paste import PasteInputError, PasteResult, paste_content
from .planner import Plan, PlannedPage, make_plan, plan_story
from .publish import publish

__all__ = [
    "CycleError",
    "Link",
    "Manifest",
    "ManifestError",
    "Page",
    "PageRecord",
    "PasteInputError",
    "PasteResult",
    "Plan",
    "PlannedPage",
    "PublishError",
    "PublishEvent",
    "PublishResult",
    "Story",
    "StoryError",
    "TargetRecord",
    "default_manifest_path",
    "feedback_vertex_set",
    "find_cycle",
    "load_manifest",
    "load_story",
    "make_plan",
    "paste_content",
    "plan_story",
    "publish",
]
