"""One file's text rewritten with libcst: only the planned imports change, nothing else.

libcst keeps every byte it is not asked to change (comments, blank lines, parentheses,
trailing commas, the order of imports). A statement whose names all move keeps its
node and gets a new module; one whose names partly move is split, the moved names in
new statements right after it; names whose new module is already imported at the top
of the file join that import. Text in, text out: files are ``apply``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import libcst as cst
from libcst.helpers import get_full_name_for_node

from pytest_ssot.fixing.plan import FileEdits, relative_name
from pytest_ssot.fixing.sites import resolve_from


class RewriteError(Exception):
    """The file cannot be rewritten (libcst cannot parse it)."""


def rewrite_source(source: str, edits: FileEdits) -> str:
    """``source`` with the imports ``edits`` plans rewritten."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise RewriteError(
            f"does not parse ({str(exc).splitlines()[0] if str(exc) else 'syntax error'})"
        ) from None
    rewriter = _Rewriter(edits, module)
    try:
        return module.visit(rewriter).code
    except cst.CSTValidationError as exc:  # a case the rewriter does not handle: say so
        raise RewriteError(f"cannot be rewritten safely ({exc}): left alone") from None


def _dotted_node(name: str) -> cst.Attribute | cst.Name:
    head, *rest = name.split(".")
    node: cst.Attribute | cst.Name = cst.Name(head)
    for part in rest:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _alias_name(alias: cst.ImportAlias) -> str:
    return get_full_name_for_node(alias.name) or ""


def _local(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _alias_name(alias)


def _new_alias(name: str, local: str) -> cst.ImportAlias:
    asname = None if local == name else cst.AsName(name=cst.Name(local))
    return cst.ImportAlias(name=cst.Name(name), asname=asname)


def _with_commas(
    aliases: Sequence[cst.ImportAlias], original: Sequence[cst.ImportAlias]
) -> list[cst.ImportAlias]:
    """``aliases`` separated as ``original`` was: its comma style, its trailing comma or not."""
    sample: Any = next(
        (a.comma for a in original if isinstance(a.comma, cst.Comma)),
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )
    trailing = bool(original) and isinstance(original[-1].comma, cst.Comma)
    out = []
    for i, alias in enumerate(aliases):
        last = i == len(aliases) - 1
        if not last:
            comma = alias.comma if isinstance(alias.comma, cst.Comma) else sample
            out.append(alias.with_changes(comma=comma))
        elif trailing:
            keep = alias.comma if isinstance(alias.comma, cst.Comma) else original[-1].comma
            out.append(alias.with_changes(comma=keep))
        else:
            out.append(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return out


class _Rewriter(cst.CSTTransformer):
    def __init__(self, edits: FileEdits, module: cst.Module) -> None:
        super().__init__()
        self.edits = edits
        self.in_import = 0
        self.merge_at: dict[str, tuple[int, int]] = {}
        self.merge_adds: dict[str, list[tuple[str, str]]] = {}
        self._plan_merges(module)

    def on_visit(self, node: cst.CSTNode) -> bool:
        # Without module bindings to rename, only statement bodies change: expressions and
        # the insides of simple statements are not walked (most of a file's nodes).
        if not self.edits.module_moves and isinstance(
            node, cst.BaseExpression | cst.SimpleStatementLine | cst.Decorator | cst.Parameters
        ):
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        if not self.edits.module_moves and isinstance(
            original_node,
            cst.BaseExpression | cst.SimpleStatementLine | cst.Decorator | cst.Parameters,
        ):
            return updated_node
        return super().on_leave(original_node, updated_node)

    # -- where an import goes ---------------------------------------------------------

    def _target(self, node: cst.ImportFrom) -> str | None:
        level = len(node.relative)
        name = get_full_name_for_node(node.module) if node.module is not None else None
        return resolve_from(self.edits.module, self.edits.is_package, level, name)

    def _moves_of(self, node: cst.ImportFrom) -> dict[str, Any] | None:
        if isinstance(node.names, cst.ImportStar):
            return None
        target = self._target(node)
        if target is None:
            return None
        moves = self.edits.from_moves.get(target)
        return dict(moves) if moves else None

    def _plan_merges(self, module: cst.Module) -> None:
        """Which top-level ``from NEW import ...`` statements take which moved names."""
        existing: dict[str, tuple[int, int, set[tuple[str, str]]]] = {}
        for i, line in enumerate(module.body):
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for j, small in enumerate(line.body):
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                    continue
                target = self._target(small)
                if target is None or target in self.edits.from_moves or target in existing:
                    continue
                present = {(_alias_name(a), _local(a)) for a in small.names}
                existing[target] = (i, j, present)
        for line in module.body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                if not isinstance(small, cst.ImportFrom):
                    continue
                moves = self._moves_of(small)
                if not moves or isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    home = moves.get(_alias_name(alias))
                    if home is None or home.module not in existing:
                        continue
                    i, j, present = existing[home.module]
                    self.merge_at[home.module] = (i, j)
                    entry = (home.name, _local(alias))
                    if entry not in present:
                        present.add(entry)
                        self.merge_adds.setdefault(home.module, []).append(entry)

    def _written(self, forbidden: str, module: str) -> str:
        if self.edits.relative.get(forbidden, False):
            return relative_name(self.edits.module, self.edits.is_package, module)
        return module

    # -- statements ----------------------------------------------------------------------

    def _rewrite_body(
        self, body: Sequence[Any], top_level: bool
    ) -> tuple[list[Any], list[cst.EmptyLine]]:
        """The statements rewritten, and the comment lines of a removed last statement."""
        out: list[Any] = []
        pending: list[cst.EmptyLine] = []
        for i, line in enumerate(body):
            if not isinstance(line, cst.SimpleStatementLine):
                out.append(_carry(line, pending))
                pending = []
                continue
            small_out: list[cst.BaseSmallStatement] = []
            extra: list[cst.ImportFrom] = []
            for j, small in enumerate(line.body):
                if top_level and isinstance(small, cst.ImportFrom):
                    small = self._merge_into(small, (i, j))
                if isinstance(small, cst.ImportFrom) and self._moves_of(small):
                    kept, new = self._split(small, top_level)
                    if kept is not None:
                        small_out.append(kept)
                    extra.extend(new)
                else:
                    small_out.append(small)
            if small_out == list(line.body) and not extra:
                out.append(_carry(line, pending))
                pending = []
                continue
            if len(line.body) > 1 or not small_out:
                statements = small_out + extra
                if not statements:
                    # Every name joined another import: the line goes, its comments stay.
                    pending.extend(line.leading_lines)
                    continue
                fixed = [
                    s.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                    if k == len(statements) - 1
                    else s.with_changes(
                        semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" "))
                    )
                    for k, s in enumerate(statements)
                ]
                if len(line.body) > 1:
                    out.append(_carry(line.with_changes(body=fixed), pending))
                else:
                    first, *others = fixed
                    out.append(_carry(line.with_changes(body=[first]), pending))
                    out.extend(cst.SimpleStatementLine(body=[s]) for s in others)
                pending = []
                continue
            out.append(_carry(line.with_changes(body=small_out), pending))
            pending = []
            out.extend(cst.SimpleStatementLine(body=[s]) for s in extra)
        return out, pending

    def _merge_into(self, node: cst.ImportFrom, at: tuple[int, int]) -> cst.ImportFrom:
        for module, where in self.merge_at.items():
            if where != at or isinstance(node.names, cst.ImportStar):
                continue
            adds = [_new_alias(name, local) for name, local in self.merge_adds.get(module, ())]
            if adds:
                names = _with_commas([*node.names, *adds], node.names)
                node = node.with_changes(names=names)
        return node

    def _split(
        self, node: cst.ImportFrom, top_level: bool
    ) -> tuple[cst.ImportFrom | None, list[cst.ImportFrom]]:
        moves = self._moves_of(node)
        assert moves is not None and not isinstance(node.names, cst.ImportStar)
        forbidden = self._target(node) or ""
        kept: list[cst.ImportAlias] = []
        groups: dict[str, list[cst.ImportAlias]] = {}
        for alias in node.names:
            home = moves.get(_alias_name(alias))
            if home is None:
                kept.append(alias)
                continue
            if top_level and home.module in self.merge_at:
                continue  # joins the existing import of its new module
            groups.setdefault(home.module, []).append(_new_alias(home.name, _local(alias)))
        original = list(node.names)
        new: list[cst.ImportFrom] = []
        if kept:
            keep_node: cst.ImportFrom | None = node.with_changes(names=_with_commas(kept, original))
        elif groups:
            # The whole statement moves: keep its node (parentheses, comments), new module.
            module, aliases = next(iter(groups.items()))
            del groups[module]
            keep_node = node.with_changes(
                **_source_of(self._written(forbidden, module)),
                names=_with_commas(aliases, original),
            )
        else:
            keep_node = None
        for module, aliases in groups.items():
            new.append(
                cst.ImportFrom(
                    **_source_of(self._written(forbidden, module)),
                    names=_with_commas(aliases, []),
                )
            )
        return keep_node, new

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body, pending = self._rewrite_body(updated_node.body, True)
        return updated_node.with_changes(body=body, footer=[*pending, *updated_node.footer])

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body, pending = self._rewrite_body(updated_node.body, False)
        if not body:  # every statement of the block joined an import elsewhere
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return updated_node.with_changes(body=body, footer=[*pending, *updated_node.footer])

    # -- module bindings ------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        self.in_import += 1
        return True

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        self.in_import -= 1
        aliases = []
        changed = False
        for alias in updated_node.names:
            move = self.edits.module_moves.get(_local(alias))
            if move is not None and _alias_name(alias) == move.forbidden:
                alias = alias.with_changes(name=_dotted_node(move.module))
                changed = True
            aliases.append(alias)
        return updated_node.with_changes(names=aliases) if changed else updated_node

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.in_import += 1
        return True

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        self.in_import -= 1
        return updated_node

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        if self.in_import or not self.edits.module_moves:
            return updated_node
        dotted = get_full_name_for_node(original_node)
        if dotted is None:
            return updated_node
        prefix, _, attribute = dotted.rpartition(".")
        move = self.edits.module_moves.get(prefix)
        if move is None or attribute not in move.names:
            return updated_node
        new_name = move.names[attribute]
        if move.dotted:
            replacement = _dotted_node(f"{move.module}.{new_name}")
            return replacement.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        if new_name == attribute:
            return updated_node
        return updated_node.with_changes(attr=cst.Name(new_name))


def _carry(line: Any, pending: list[cst.EmptyLine]) -> Any:
    """``line`` with the blank lines and comments of removed statements above it."""
    if not pending or not hasattr(line, "leading_lines"):
        return line
    return line.with_changes(leading_lines=[*pending, *line.leading_lines])


def _source_of(written: str) -> dict[str, Any]:
    """The ``module`` and ``relative`` parts of ``from <written> import ...``."""
    dots = len(written) - len(written.lstrip("."))
    rest = written[dots:]
    return {
        "module": _dotted_node(rest) if rest else None,
        "relative": [cst.Dot() for _ in range(dots)],
    }
