"""Ready for translation: every sentence a person reads is marked, and the catalogue can be made.

Three checks fail when someone adds an unmarked string (README "Translation"):

* templates: every text a page shows is inside {% translate %} / {% blocktranslate %}
  (outside <script>, <style>, HTML comments and tags; a few attributes people read — title,
  alt, placeholder, aria-label — count as text). What may stay bare: punctuation, digits,
  HTML entities (`&nbsp;`, `&rarr;`) and the ALLOWED_TEMPLATE_TEXT below.
* Python: string literals and f-strings given to a refusal (a DomainError subclass,
  ValidationError, CommandError), to messages.* / message_user, to a command's
  stdout / stderr, or as a label (verbose_name, help_text, description=, title = … on a
  filter, a fieldset's title, a TextChoices label …) are wrapped in gettext & co. Machine
  output stays bare by one rule: a command line with no space between words, or a
  `key=value` / CSV line (see is_machine_format).
* makemessages -l zh_Hans runs (into a temporary copy of the project, so nothing is left in
  the repository) and its catalogue holds known sentences with matching placeholders.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType
from django.utils import translation

from broadcasts import services
from operator_console.errors import ReasonRequired
from tests.factories import make_pending

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "broadcasts", "api", "operator_console")

# --- templates ---------------------------------------------------------------------------------

# Bare text a template may show: symbols and product names that are the same in every language.
ALLOWED_TEMPLATE_TEXT = {"ECharts"}
READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
MARK = "\x00"  # stands for a {% tag %} or {{ variable }} in the flattened page


def template_files() -> list[Path]:
    dirs = [ROOT / "templates"] + [ROOT / app / "templates" for app in APPS]
    return sorted(p for d in dirs if d.is_dir() for p in d.rglob("*.html"))


def flatten(source: str) -> str:
    """The template's text with tags and variables replaced by MARK and translated blocks dropped."""
    out, skip = [], None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.split_contents()[0]
            if skip:
                if name == skip:
                    skip = None
                continue
            if name in ("blocktranslate", "blocktrans"):
                skip = "end" + name
            elif token.split_contents()[1:] == ["bodyclass"]:  # CSS classes of <body>
                skip = "endblock"
            elif name == "comment":
                skip = "endcomment"
            out.append(MARK)
        elif skip:
            continue
        elif token.token_type == TokenType.TEXT:
            out.append(token.contents)
        elif token.token_type == TokenType.VAR:
            out.append(MARK)
    return "".join(out)


def unmarked_template_text(source: str) -> list[str]:
    page = flatten(source)
    page = re.sub(r"<(script|style)\b.*?</\1\s*>", MARK, page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", MARK, page, flags=re.S)
    found = []
    attrs = "|".join(READ_ATTRIBUTES)
    for value in re.findall(rf'\s(?:{attrs})\s*=\s*"([^"]*)"', page, flags=re.I):
        found.append(value)
    page = re.sub(r"<[^>]*>", MARK, page)
    found += page.split(MARK)
    bad = []
    for text in found:
        text = re.sub(r"&#?\w+;", " ", text)
        words = " ".join(text.split())
        if re.search(r"[^\W\d_]", words) and words not in ALLOWED_TEMPLATE_TEXT:
            bad.append(words)
    return bad


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_template_text_is_marked_for_translation(path):
    bad = unmarked_template_text(path.read_text())
    assert not bad, f"{path.relative_to(ROOT)}: wrap in {{% translate %}} / {{% blocktranslate %}}: {bad}"


def test_the_template_check_finds_an_unmarked_sentence():
    source = (
        "{% load i18n %}<p title=\"Open it\">{% translate 'Ready' %} &nbsp;"
        "{% blocktranslate count n=k %}{{ n }} item{% plural %}{{ n }} items{% endblocktranslate %}</p>"
        "<script>var x = 'words here';</script><span>Queued</span>{{ value }} ({{ n }})"
    )
    assert unmarked_template_text(source) == ["Open it", "Queued"]


# --- Python ------------------------------------------------------------------------------------

TRANSLATORS = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "gettext_noop",
    "_lazy",
    "format_lazy",
}
LABEL_KEYWORDS = {
    "verbose_name",
    "verbose_name_plural",
    "help_text",
    "label",
    "short_description",
    "description",
    "empty_value_display",
    "title",
    "empty_label",
}
LABEL_ATTRIBUTES = LABEL_KEYWORDS | {"site_header", "site_title", "index_title"}
MESSAGE_CALLS = {"success", "info", "warning", "error", "debug", "add_message", "message_user"}
REFUSALS = {"ValidationError", "CommandError"}
# The follower import's bookkeeping of bad rows (accounts/imports/parsing.py): the message is the
# second argument (`add = problems.add` in the parser's loop).
ROW_PROBLEMS = {"add", "RowProblem"}
# "broadcast(s)", "follower(es)": a plural faked in one string ("http(s)" is no plural).
FAKE_PLURAL = re.compile(r"(?<!http)(?<=[^\W\d_])\((s|es)\)")


def python_files() -> list[Path]:
    files = []
    for app in APPS:
        for p in (ROOT / app).rglob("*.py"):
            if "migrations" not in p.parts and "tests" not in p.parts:
                files.append(p)
    return sorted(files)


def domain_error_names() -> set[str]:
    from operator_console.errors import DomainError

    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


def call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def is_machine_format(text: str) -> bool:
    """Command output for programs, not people: one word, `key=value` pairs, or a CSV line."""
    text = text.strip()
    return " " not in text or bool(re.match(r"^[\w.-]+=", text)) or ("," in text and ", " not in text)


def bare_literals(node: ast.expr | None) -> list[str]:
    """The string literals with a letter in `node` that no translation function wraps."""
    if node is None:
        return []
    if isinstance(node, ast.Call):
        name = call_name(node.func)
        if name in TRANSLATORS:
            return []
        if name in ("format", "join") and isinstance(node.func, ast.Attribute):
            return bare_literals(node.func.value)
        if name in ("format_html", "mark_safe", "str") or name.isupper():  # style.SUCCESS(...) and the like
            return [s for a in node.args[:1] for s in bare_literals(a)]
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if re.search(r"[^\W\d_]", node.value) else []
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [text] if re.search(r"[^\W\d_]", text) else []
    if isinstance(node, ast.BinOp):
        return bare_literals(node.left) + (bare_literals(node.right) if isinstance(node.op, ast.Add) else [])
    if isinstance(node, ast.IfExp):
        return bare_literals(node.body) + bare_literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [s for v in node.values for s in bare_literals(v)]
    return []


# The API's OpenAPI documentation (help_text, description=) is for developers, in English like the
# platform's wire format; its refusals (errmsg) are the services' translated sentences.
SCHEMA_DOCS = {"api/serializers.py", "api/views/base.py"}


class Finder(ast.NodeVisitor):
    def __init__(self, refusals: set[str], schema_docs: bool = False, command: bool = False):
        self.refusals = refusals
        self.schema_docs = schema_docs
        self.command = command
        self.found: list[tuple[int, str]] = []
        self.classes: list[ast.ClassDef] = []

    def flag(self, node: ast.AST, texts: list[str], machine_ok: bool = False) -> None:
        for text in texts:
            if not (machine_ok and is_machine_format(text)):
                self.found.append((node.lineno, text))

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):  # not a docstring
            self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # A fake plural ("3 broadcast(s)"): ngettext("%(count)s broadcast", "%(count)s broadcasts", n) instead.
        if isinstance(node.value, str) and FAKE_PLURAL.search(node.value):
            self.found.append((node.lineno, node.value))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {call_name(b) for b in node.bases}
        for stmt in node.body:
            if not isinstance(stmt, ast.Assign):
                continue
            for target in stmt.targets:
                name = call_name(target)
                if name in LABEL_ATTRIBUTES:
                    self.flag(stmt, bare_literals(stmt.value))
                elif name == "fieldsets" and isinstance(stmt.value, (ast.List, ast.Tuple)):
                    for fieldset in stmt.value.elts:
                        if isinstance(fieldset, ast.Tuple) and fieldset.elts:
                            self.flag(fieldset, bare_literals(fieldset.elts[0]))
                elif bases & {"TextChoices", "IntegerChoices", "Choices"} and isinstance(stmt.value, ast.Tuple):
                    self.flag(stmt, bare_literals(stmt.value.elts[-1]))
        self.generic_visit(node)

    # A command's output is often built before it is written: table headings and cells in a list,
    # (label, value) rows, a value returned or kept in a variable. In a command module every such
    # literal with words is text for people unless it is machine format (argparse's help aside).
    def visit_List(self, node: ast.List | ast.Tuple) -> None:
        if self.command:
            self.flag(node, [s for e in node.elts for s in bare_literals(e)], machine_ok=True)
        self.generic_visit(node)

    visit_Tuple = visit_List

    def visit_Dict(self, node: ast.Dict) -> None:
        if self.command:
            self.flag(node, [s for v in node.values for s in bare_literals(v)], machine_ok=True)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self.command:
            self.flag(node, bare_literals(node.value), machine_ok=True)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.command and not any(call_name(t) == "help" for t in node.targets):
            self.flag(node, bare_literals(node.value), machine_ok=True)
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr in LABEL_ATTRIBUTES:
                self.flag(node, bare_literals(node.value))
            elif isinstance(target, ast.Subscript) and call_name(target.value) == "errors":  # errors["field"] = …
                self.flag(node, bare_literals(node.value))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = call_name(node.func)
        if name in self.refusals or name in REFUSALS:
            self.flag(node, [s for a in node.args[:1] for s in bare_literals(a)])
            # ValidationError({"field": "message", ...}): the messages are the dict's values.
            for a in node.args[:1]:
                if isinstance(a, ast.Dict):
                    self.flag(node, [s for v in a.values for s in bare_literals(v)])
            self.flag(node, [s for k in node.keywords if k.arg == "message" for s in bare_literals(k.value)])
        elif name == "add_error":  # form.add_error(field, message)
            self.flag(node, [s for a in node.args[1:2] for s in bare_literals(a)])
        elif name in ROW_PROBLEMS:  # the import's bad rows: problems.add(line, message), RowProblem(line, message)
            self.flag(node, [s for a in node.args[1:2] for s in bare_literals(a)])
            self.flag(node, [s for k in node.keywords if k.arg == "message" for s in bare_literals(k.value)])
        elif name == "write" and call_name(getattr(node.func, "value", None)) in ("stdout", "stderr"):
            self.flag(node, [s for a in node.args[:1] for s in bare_literals(a)], machine_ok=True)
        elif name in MESSAGE_CALLS and (
            call_name(getattr(node.func, "value", None)) == "messages" or name == "message_user"
        ):
            args = node.args[1:] if name != "add_message" else node.args[2:]
            self.flag(node, [s for a in args[:1] for s in bare_literals(a)])
            self.flag(node, [s for k in node.keywords if k.arg == "message" for s in bare_literals(k.value)])
        for k in node.keywords:
            if k.arg in LABEL_KEYWORDS and not self.schema_docs:
                self.flag(node, bare_literals(k.value))
        self.generic_visit(node)


def unmarked_python_strings(
    source: str, refusals: set[str], schema_docs: bool = False, command: bool = False
) -> list[tuple[int, str]]:
    finder = Finder(refusals, schema_docs, command)
    finder.visit(ast.parse(source))
    return finder.found


def test_every_user_visible_python_string_is_marked_for_translation():
    refusals = domain_error_names()
    bad = [
        f"{p.relative_to(ROOT)}:{line}: {text!r}"
        for p in python_files()
        for line, text in unmarked_python_strings(
            p.read_text(),
            refusals,
            schema_docs=str(p.relative_to(ROOT)) in SCHEMA_DOCS,
            command="commands" in p.parts,
        )
    ]
    assert not bad, "wrap these in gettext / gettext_lazy / ngettext:\n" + "\n".join(bad)


def test_the_python_check_finds_unmarked_strings():
    source = """
from django.utils.translation import gettext as _
class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", _("Sent")
class F(admin.SimpleListFilter):
    title = "state"
def f(b, n):
    raise InvalidState(f"Broadcast {b.pk} is not a draft.")
    raise InvalidState(_("Broadcast %(id)s is not a draft.") % {"id": b.pk})
    messages.success(request, f"{n} broadcasts approved.")
    self.stdout.write(f"sent={n} failed=0")
    self.stdout.write(f"Sent {n} messages.")
    x = models.CharField(verbose_name="send at", help_text=_("When."))
    add(line, f"openid '{openid}' repeats line {first}")
    add(line, _("openid is missing"))
    problems.append(RowProblem(line, "openid is missing"))
    messages.info(request, _("%(n)s follower(s) imported.") % {"n": n})
    cover = _("a valid http(s) address")
"""
    found = [text for _line, text in unmarked_python_strings(source, {"InvalidState"})]
    assert found == [
        "Draft",
        "state",
        "Broadcast  is not a draft.",
        " broadcasts approved.",
        "Sent  messages.",
        "send at",
        "openid '' repeats line ",
        "openid is missing",
        "%(n)s follower(s) imported.",
    ]


def test_the_python_check_finds_unmarked_table_text_in_a_command():
    source = """
HEADERS = ["ACCOUNT", "APP ID", _("NEXT WINDOW")]
CSV_COLUMNS = ["broadcast_id", "app_id"]
class Command(ConsoleCommand):
    help = "Show the quota in force."
    def handle(self):
        cells = {"all": "all followers", "tag": _("followers tagged %(tag)s")}
        note = "not yet (72 h still running)"
        subprocess.run(["redis-server", "--port", "6379"])
        return f"{n} at cap"
"""
    found = [text for _line, text in unmarked_python_strings(source, set(), command=True)]
    assert found == ["APP ID", "all followers", "not yet (72 h still running)", " at cap"]
    assert unmarked_python_strings(source, set()) == []  # outside commands, lists are not output


# --- makemessages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> str:
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext is not installed (xgettext): scripts/gettext.sh installs it (apt-get install gettext)")
    copy = tmp_path_factory.mktemp("project")
    for name in (*APPS, "templates"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "DEBUG": "True", "DJANGO_SETTINGS_MODULE": "operator_console.settings"},
    )
    assert result.returncode == 0, result.stderr
    assert not (ROOT / "locale" / "zh_Hans").exists() or (ROOT / "locale" / "zh_Hans").is_dir()
    return (copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text()


# --- a pseudo-translation: every sentence of ours comes out as ⟦sentence⟧ -------------------------


def wrap(text: str) -> str:
    """⟦text⟧, keeping a leading or trailing newline outside (msgfmt wants them to match)."""
    head = "\\n" if text.startswith("\\n") else ""
    tail = "\\n" if text.endswith("\\n") and len(text) > 2 else ""
    return f"{head}⟦{text[len(head) : len(text) - len(tail)]}⟧{tail}"


def pseudo_catalogue(po: str) -> str:
    """The catalogue with every msgstr "⟦msgid⟧" (plural entries: both forms), two plural forms."""
    blocks = []
    for block in po.strip().split("\n\n"):
        lines = []
        for line in block.split("\n"):
            if line.startswith("msgstr"):
                break  # msgstr and its continuation lines come last
            if line != "#, fuzzy":
                lines.append(line)
        text = "\n".join(lines)
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', text + "\n", flags=re.M)
        ids = "".join(re.findall(r'"(.*)"', msgid.group(1))) if msgid else ""
        if not ids:  # the header
            blocks.append(
                block.replace("#, fuzzy\n", "").replace("nplurals=1; plural=0;", "nplurals=2; plural=(n != 1);")
            )
            continue
        plural = re.search(r'^msgid_plural ((?:".*"\n?)+)', text + "\n", flags=re.M)
        if plural:
            many = "".join(re.findall(r'"(.*)"', plural.group(1)))
            text += f'\nmsgstr[0] "{wrap(ids)}"\nmsgstr[1] "{wrap(many)}"'
        else:
            text += f'\nmsgstr "{wrap(ids)}"'
        blocks.append(text)
    return "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="module")
def pseudo_locale(catalogue, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pseudo")
    folder = root / "zh_Hans" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text(pseudo_catalogue(catalogue))
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(folder / "django.mo"), str(folder / "django.po")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return root


def ours(catalogue: str) -> list[str]:
    """Our sentences of two words or more without placeholders: none may show outside ⟦…⟧."""
    found = []
    for block in catalogue.split("\n\n"):
        m = re.search(r'^msgid ((?:".*"\n?)+)', block + "\n", flags=re.M)
        text = "".join(re.findall(r'"(.*)"', m.group(1))).replace('\\"', '"') if m else ""
        if len(text.split()) >= 2 and "%" not in text and "<" not in text and "{" not in text:
            found.append(text)
    return found


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", html, flags=re.S | re.I)
    text = re.sub(r"<[^>]*>", " ", html)
    text = re.sub(r"⟦.*?⟧", " ", text, flags=re.S)  # what went through the catalogue
    return " ".join(text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&").split())


def entry(po: str, msgid: str) -> str:
    """The catalogue entry (flags, msgid, msgid_plural, msgstr) whose msgid is `msgid`, or ""."""
    for block in po.split("\n\n"):
        found = re.search(r'^msgid ((?:".*"\n?)+)', block, flags=re.M)
        if found and "".join(re.findall(r'"(.*)"', found.group(1))).replace('\\"', '"') == msgid:
            return block
    return ""


@pytest.mark.parametrize(
    "msgid,python_format",
    [
        ("Tag “%(tag)s” belongs to another account, not %(account)s.", True),  # a refusal (services)
        ("Waiting for review", False),  # a dashboard panel's title (template)
        ("Oldest waiting for %(wait)s", True),  # a {% blocktranslate with %} (template)
        ("Dispatched %(count)s broadcast.", True),  # a command's output, with its plural
        ("Approved", False),  # a TextChoices label
    ],
)
def test_makemessages_collects_known_sentences(catalogue, msgid, python_format):
    block = entry(catalogue, msgid)
    assert block, f"{msgid!r} is not in the catalogue"
    assert ("python-format" in block) == python_format
    if python_format:
        ids = re.findall(r'^msgid(?:_plural)?\s+"(.*)"', block, flags=re.M)
        assert {tuple(sorted(re.findall(r"%\((\w+)\)s", i))) for i in ids if i} == {
            tuple(sorted(re.findall(r"%\((\w+)\)s", msgid)))
        }


# --- the admin in another language ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_speaks_the_browsers_language_where_django_has_the_words(client, make_user, make_account):
    """Accept-Language: zh-CN gives Django's own admin strings in Chinese (our sentences stay English
    until the catalogue is translated); without the header everything is English."""
    account = make_account(name="Acme Service")
    client.force_login(make_user("rita", role="reviewer"))
    url = f"/admin/accounts/officialaccount/{account.pk}/change/"

    chinese = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 200
    assert chinese.headers["Content-Language"] == "zh-hans"
    page = chinese.content.decode()
    assert "注销" in page  # Django's "Log out"
    assert "Acme Service" in page and "Followers" in page  # ours, not translated yet

    english = client.get(url)
    assert english.headers["Content-Language"] == "en"
    assert "Log out" in english.content.decode() and "注销" not in english.content.decode()


@pytest.mark.django_db
def test_a_pseudo_translation_leaves_none_of_our_sentences_in_english(
    pseudo_locale, catalogue, client, make_user, make_account, settings
):
    """With every sentence of the catalogue "translated" to ⟦sentence⟧, the dashboard, a broadcast's
    change page, its review page and a refusal show none of our sentences bare: each went through
    a translation function when the page was drawn (not once, in English, at import time)."""
    settings.LOCALE_PATHS = [pseudo_locale]
    account = make_account(name="Acme Service")
    operator = make_user("otto", role="operator")
    b = make_pending(account, by=operator, title="Winter sale")
    client.force_login(make_user("rita", role="reviewer"))
    sentences = ours(catalogue)
    zh = {"Accept-Language": "zh-CN"}
    for url in (
        "/admin/",
        f"/admin/broadcasts/broadcast/{b.pk}/change/",
        f"/admin/broadcasts/broadcast/{b.pk}/review/",
    ):
        response = client.get(url, headers=zh)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "⟦" in page, url
        text = visible_text(page)
        bare = [s for s in sentences if s in text]
        assert not bare, f"{url}: untranslated sentences of ours: {bare}"
    with translation.override("zh-hans"):
        with pytest.raises(ReasonRequired) as refusal:
            services.reject_broadcast(b, by=None, reason="")
    assert refusal.value.message == "⟦Give a reason to reject a broadcast; the author is told why.⟧"


@pytest.mark.django_db
def test_a_translator_gets_whole_sentences_not_glued_fragments(pseudo_locale, settings, make_user, make_account):
    """Each variant is one msgid (⟦…⟧ around the whole sentence): a bulk action's report, a suspended
    account's refusal, an import's bad row. Glued from fragments, the pieces would come out ⟦…⟧ each."""
    import io

    from accounts.imports import parse_rows
    from accounts.imports.parsing import Problems
    from accounts.imports.service import FIELD_LIMITS
    from broadcasts.admin.transitions import TRANSITIONS
    from operator_console.errors import DomainError

    settings.LOCALE_PATHS = [pseudo_locale]
    account = make_account(name="Acme", status="suspended", suspension_reason="Spam")
    b = make_pending(account, by=make_user("otto", role="operator"))
    problems = Problems()
    with translation.override("zh-hans"):
        assert TRANSITIONS["approve"].bulk_success_message([b, b]) == "⟦2 broadcasts approved.⟧"
        with pytest.raises(DomainError) as refusal:
            services.approve_broadcast(b, by=make_user("rita", role="reviewer"))
        csv = b"openid,nickname,tags,subscribed_at\no1,Ann,,yesterday\n"
        list(parse_rows(io.BytesIO(csv), problems=problems, limits=FIELD_LIMITS))
        row = str(problems.first[0])
    assert "is suspended until reinstated, reason: Spam; it cannot broadcast at" in refusal.value.message
    assert row == "⟦line 2: ⟦subscribed_at 'yesterday' is not an ISO-8601 time⟧⟧"


def test_every_model_names_itself_in_words_a_translator_sees():
    """Django's default model names ("official account", from the class name) never reach the
    catalogue: each model's Meta declares verbose_name and verbose_name_plural with gettext_lazy."""
    from django.apps import apps
    from django.utils.functional import Promise

    bare = [
        f"{model.__name__}.Meta.{name}"
        for app in ("accounts", "broadcasts", "api")
        for model in apps.get_app_config(app).get_models()
        for name in ("verbose_name", "verbose_name_plural")
        if not isinstance(model._meta.original_attrs.get(name), Promise)
    ]
    assert not bare, f"declare these with gettext_lazy: {bare}"


def unlabelled_fields(models) -> list[str]:
    """The fields of `models` whose label Django would make from the field's name ("cover url"):
    such a label never reaches the catalogue. Auto-created fields (the `id`, the link tables of a
    many-to-many) are Django's own and exempt."""
    from django.utils.functional import Promise

    return [
        f"{model.__name__}.{field.name}"
        for model in models
        for field in (*model._meta.local_fields, *model._meta.local_many_to_many)
        if not field.auto_created and not isinstance(field.verbose_name, Promise)
    ]


def test_every_model_field_labels_itself_in_words_a_translator_sees():
    """The admin's form labels and column headers come from the fields' verbose_name: each field of
    our models declares one with gettext_lazy, in the console's words ("send time", "clientmsgid")."""
    from django.apps import apps

    models = [model for app in ("accounts", "broadcasts", "api") for model in apps.get_app_config(app).get_models()]
    bare = unlabelled_fields(models)
    assert not bare, f"give these fields verbose_name=gettext_lazy(…): {bare}"


def test_the_field_label_check_finds_a_field_without_a_label():
    from django.db import models
    from django.test.utils import isolate_apps
    from django.utils.translation import gettext_lazy

    with isolate_apps("tests"):

        class Sample(models.Model):
            title = models.CharField(verbose_name=gettext_lazy("title"), max_length=10)
            cover_url = models.URLField()
            plain = models.CharField("plain words", max_length=10)
            others = models.ManyToManyField("self")

            class Meta:
                app_label = "tests"

            def __str__(self):
                return self.title

        assert unlabelled_fields([Sample]) == ["Sample.cover_url", "Sample.plain", "Sample.others"]
