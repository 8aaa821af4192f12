"""Stories: folders of linked pages, published to a pastebin so that every link works.

``load_story`` reads and checks a folder, ``plan_story`` works out the order
and ids, ``publish`` pastes (see each module's docstring).
"""

from .errors import CycleError, ManifestError, PublishError, StoryError
from .loader import Link, Page, Story, load_story
from .manifest import Manifest, default_manifest_path
from .planner import Plan, PlannedPage, feedback_vertex_set, find_cycle, plan_story
from .publish import PublishEvent, PublishResult, SearchSettings, make_plan, publish

__all__ = [
    "CycleError",
    "Link",
    "Manifest",
    "ManifestError",
    "Page",
    "Plan",
    "PlannedPage",
    "PublishError",
    "PublishEvent",
    "PublishResult",
    "SearchSettings",
    "Story",
    "StoryError",
    "default_manifest_path",
    "feedback_vertex_set",
    "find_cycle",
    "load_story",
    "make_plan",
    "plan_story",
    "publish",
]
