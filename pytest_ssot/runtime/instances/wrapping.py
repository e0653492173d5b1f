"""Wrapping the declared classes: which constructor is replaced, and putting it back.

``Wrappers`` resolves a declared class path in its freshly imported module,
checks that the manager's key can be read through the constructor's signature,
and installs the ``patching`` wrapper (one per class, shared by the managers that
declare it). ``restore`` puts every original back, leaving alone what something
else replaced during the run.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from pytest_ssot.managers import ObjectPath
from pytest_ssot.runtime.instances.constructions import Constructions
from pytest_ssot.runtime.instances.counting import ManagerRule
from pytest_ssot.runtime.instances.keys import Binder
from pytest_ssot.runtime.instances.patching import Patch, make_init_wrapper, make_new_wrapper
from pytest_ssot.runtime.instances.report import DeclarationProblems


class Wrappers:
    """The wrapped classes of one tracker, each with what its wrapper replaced."""

    def __init__(self, counter: Constructions, problems: DeclarationProblems) -> None:
        self.counter = counter
        self.problems = problems
        self._patches: dict[type, Patch] = {}

    def is_wrapped(self, cls: type) -> bool:
        return cls in self._patches

    def wrap(self, rule: ManagerRule, path: ObjectPath, module: ModuleType) -> None:
        """Wrap the class ``path`` names in ``module`` for ``rule``, or say why it cannot be."""
        try:
            target = path.resolve(module)
        except AttributeError:
            rule.unusable.add(path.text)
            self.problems(rule, f"{path.text}: module {path.module} has no {path.qualname!r}")
            return
        if not isinstance(target, type):
            rule.unusable.add(path.text)
            self.problems(rule, f"{path.text} is not a class ({type(target).__name__})")
            return
        with self.counter.lock:
            patch = self._patches.get(target)
            if (patch is not None and rule in patch.rule_set) or (
                patch is None and self._inherits_wrapper(target, rule)
            ):
                # The same class under another name (a legacy alias), or a subclass that
                # inherits a constructor already wrapped for this manager.
                rule.instrumented[path.text] = qualified(target)
                return
            binder: Binder | None = None
            key = rule.spec.key
            if key is not None:
                probe = patch or Patch.for_class(target)
                try:
                    binder = Binder.through(probe.signature_chain(), key.parameter, key.attributes)
                except (ValueError, TypeError) as exc:
                    rule.unusable.add(path.text)
                    self.problems(
                        rule, f"key {key.text!r}: {exc}; {path.text} is not watched", path.text
                    )
                    return
            if patch is None:
                patch = self._wrapped(target)
            patch.add(rule, binder)
            rule.instrumented[path.text] = qualified(target)
            self.counter.forget_types()

    def _inherits_wrapper(self, cls: type, rule: ManagerRule) -> bool:
        attr = Patch.for_class(cls).attr
        if attr in cls.__dict__:
            return False
        for base in cls.__mro__[1:]:
            if attr in base.__dict__:
                patch = self._patches.get(base)
                return (
                    patch is not None
                    and patch.installed is base.__dict__[attr]
                    and rule in patch.rule_set
                )
        return False

    def _wrapped(self, cls: type) -> Patch:
        patch = Patch.for_class(cls)
        if patch.attr == "__new__":
            wrapper: Any = make_new_wrapper(self.counter, patch)
        else:
            wrapper = make_init_wrapper(self.counter, patch)
        target = patch.signature_target()
        if target is not None:
            functools.update_wrapper(wrapper, target)  # keeps inspect.signature(cls) right
        patch.installed = staticmethod(wrapper) if patch.attr == "__new__" else wrapper
        setattr(cls, patch.attr, patch.installed)  # TypeError for built-in and extension types
        for other in self._patches.values():
            if issubclass(cls, other.cls) or issubclass(other.cls, cls):
                other.alone = patch.alone = False
        self._patches[cls] = patch
        return patch

    def restore(self) -> list[str]:
        """Put every original constructor back; what could not be, as messages."""
        with self.counter.lock:
            patches = list(self._patches.values())
            self._patches.clear()
            self.counter.forget_types()
        problems: list[str] = []
        for patch in reversed(patches):
            current = patch.cls.__dict__.get(patch.attr)
            if current is not patch.installed:
                problems.append(
                    f"{patch.cls.__module__}.{patch.cls.__qualname__}.{patch.attr} was replaced "
                    "during the run by something else; left as it is"
                )
                continue
            try:
                if patch.had_own:
                    setattr(patch.cls, patch.attr, patch.original)
                else:
                    delattr(patch.cls, patch.attr)
            except Exception as exc:  # put back all the others whatever happens to one
                problems.append(
                    f"{patch.cls.__module__}.{patch.cls.__qualname__}.{patch.attr} could not be "
                    f"restored ({type(exc).__name__}: {exc})"
                )
        return problems


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
