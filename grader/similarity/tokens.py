"""Normalised tokens of a Python source, and where its functions are.

Pygments' Python lexer reads any text (a syntax error, a half-written
notebook cell, stray bytes) without failing, so every submission gets tokens
and nothing is ever imported or compiled. Normalisation follows MOSS and
JPlag: comments, docstrings and layout vanish, every literal becomes `N` or
`S`, import statements are dropped (their uses remain), and every name
the student chose becomes `V` (variables, parameters,
their own functions and classes, attributes they assign such as
`self.hidden`). What stays verbatim is what a student cannot rename without
changing the program: keywords, operators, builtins, keyword-argument names
(`axis=`), library attributes (`.T`, `.sum`) and imported modules, the
latter under their full name (`np` after `import numpy as np` is `numpy`).
"""
import bisect
import builtins
import dataclasses
import io
import keyword
import re
import tokenize

from pygments.lexers.python import PythonLexer
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String, Text

VARIABLE, NUMBER, STRING = "V", "N", "S"
_LEXER = PythonLexer()
_SOLUTION_BLOCK = re.compile(r"^[ \t]*# BEGIN SOLUTION[ \t]*$", re.MULTILINE)
_KEPT_NAMES = (Name.Builtin, Name.Exception, Name.Decorator)


@dataclasses.dataclass(frozen=True)
class Token:
    text: str    # normalised
    start: int   # character offsets in the source, for highlighting
    end: int
    line: int    # 1-based


@dataclasses.dataclass(frozen=True)
class Function:
    name: str    # qualified: `fit`, `FFN.forward`
    head: int    # token index of its `def`
    first: int   # token index range of its body (after the signature's colon)
    last: int
    start: int   # character range of the whole definition
    end: int


def normalise(text: str) -> list[Token]:
    """The normalised tokens of a source text (any text at all)."""
    lines = _line_starts(text)
    raw = [(i, bisect.bisect_right(lines, i), _category(kind), value) for i, kind, value in _lex(text, lines)
           if value.strip() and _category(kind) != "layout"]
    aliases, own_attributes, imports = _declarations(raw)
    tokens, depth, signature = [], 0, None   # signature: the depth inside a def's parentheses
    interpolating = 0                        # inside an f-string's {...}: still the string
    for n, (start, line, kind, value) in enumerate(raw):
        if start in imports:     # `import numpy as np` vs `import numpy`: only the uses count
            continue
        if (kind == "interpolation" or interpolating) and tokens:
            interpolating = max(0, interpolating + (value.count("{") - value.count("}")
                                                    if kind == "interpolation" else 0))
            tokens[-1] = dataclasses.replace(tokens[-1], end=start + len(value))
            continue
        if value == "(" and n > 1 and raw[n - 2][3] == "def":
            signature = depth + 1
        elif value == ")" and depth == signature:
            signature = None
        previous = raw[n - 1][3] if n else ""
        following = raw[n + 1][3] if n + 1 < len(raw) else ""
        if kind == "string":
            if n and raw[n - 1][2] in ("string", "interpolation") and tokens:   # "a" "b": one S
                tokens[-1] = dataclasses.replace(tokens[-1], end=start + len(value))
                continue
            normal = STRING
        elif kind == "number":
            normal = NUMBER
        elif kind in ("name", "kept name", "namespace"):
            keyword_argument = depth and following == "=" and depth != signature   # f(x, axis=0)
            normal = _name(kind, value, previous, keyword_argument, aliases, own_attributes)
        else:
            normal = value
        depth = max(0, depth + (value in ("(", "[", "{")) - (value in (")", "]", "}")))
        tokens.append(Token(normal, start, start + len(value), line))
    return tokens


_CATEGORIES = {}


def _category(kind):
    """A pygments token type as one word (testing `kind in Name` each time is slow)."""
    if kind not in _CATEGORIES:
        if kind in Comment or kind in String.Doc or kind in Text:
            found = "layout"
        elif kind in String.Interpol:
            found = "interpolation"
        elif kind in String:
            found = "string"
        elif kind in Number:
            found = "number"
        elif kind in Keyword.Namespace:
            found = "import"
        elif kind in Name.Namespace:
            found = "namespace"
        elif kind in Name.Builtin.Pseudo:
            found = "verbatim"
        elif any(kind in kept for kept in _KEPT_NAMES):
            found = "kept name"
        elif kind in Name:
            found = "name"
        else:
            found = "verbatim"
        _CATEGORIES[kind] = found
    return _CATEGORIES[kind]


def _lex(text, lines):
    """(offset, pygments token type, text) for every token.

    The standard library's tokenize is ten times faster than pygments and is
    used when it can read the file; its tokens are given pygments' types and
    operators are split the way pygments splits them, so both paths
    normalise alike. A file tokenize refuses (an unclosed bracket, a bad
    dedent) goes through pygments, which reads anything.
    """
    try:
        return list(_python_tokens(text, lines))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return list(_LEXER.get_tokens_unprocessed(text))


_KEYWORD_TYPES = {"import": Keyword.Namespace, "from": Keyword.Namespace, "True": Keyword.Constant,
                  "False": Keyword.Constant, "None": Keyword.Constant, "and": Operator.Word,
                  "or": Operator.Word, "not": Operator.Word, "in": Operator.Word, "is": Operator.Word}
_BUILTINS = {name for name in dir(builtins) if not name.startswith("_")}
_EXCEPTIONS = {name for name in _BUILTINS if isinstance(getattr(builtins, name), type)
               and issubclass(getattr(builtins, name), BaseException)}
_KEPT_OPERATORS = ("==", "!=", ":=")   # pygments splits every other multi-character operator
_LAYOUT = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT,
           tokenize.ENCODING, tokenize.ENDMARKER)


def _python_tokens(text, lines):
    previous, statement_start, statement_start_before_at = None, True, False
    stream = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for n, token in enumerate(stream):
        kind, value = token.type, token.string
        offset = lines[token.start[0] - 1] + token.start[1] if token.start[0] <= len(lines) else len(text)
        if kind in _LAYOUT:
            statement_start = statement_start or kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
            continue
        if kind == tokenize.STRING:
            after = n + 1
            while after < len(stream) and stream[after].type in (tokenize.COMMENT, tokenize.NL):
                after += 1
            alone = statement_start and (after == len(stream) or
                                         stream[after].type in (tokenize.NEWLINE, tokenize.ENDMARKER))
            yield offset, String.Doc if alone else String, value
        elif kind == tokenize.NUMBER:
            yield offset, Number, value
        elif kind == tokenize.NAME:
            if previous == "@" and statement_start_before_at:   # a decorator: one token, as pygments has it
                yield offset - 1, Name.Decorator, "@" + value
            else:
                yield offset, _name_type(value, previous), value
        elif value == "@" and statement_start:
            statement_start_before_at = True
            previous, statement_start = value, False
            continue
        elif kind == tokenize.OP and len(value) > 1 and value not in _KEPT_OPERATORS:
            for i, char in enumerate(value):
                yield offset + i, Operator, char
        else:
            yield offset, Operator if kind == tokenize.OP else Error, value
        previous, statement_start, statement_start_before_at = value, False, False


def _name_type(value, previous):
    if keyword.iskeyword(value):
        return _KEYWORD_TYPES.get(value, Keyword)
    if previous == "def":
        return Name.Function
    if previous == "class":
        return Name.Class
    if value in ("self", "cls"):
        return Name.Builtin.Pseudo
    if value in _EXCEPTIONS:
        return Name.Exception
    if value in _BUILTINS and previous != ".":
        return Name.Builtin
    return Name


def _name(kind, value, previous, keyword_argument, aliases, own_attributes):
    if previous == ".":
        return VARIABLE if value in own_attributes else value
    if kind == "kept name":
        return value
    if value in aliases:
        return aliases[value]
    if keyword_argument:
        return value
    return VARIABLE


def _declarations(raw):
    """Imported names with their full module paths, the attributes the student assigns, and
    where the import statements are (the offsets of their tokens).

    An attribute is the student's own when it is assigned (`self.hidden = ...`,
    `ctx.a, ctx.b = ...`): its name is theirs to choose, so it is abstracted
    everywhere in the file.
    """
    aliases, own_attributes, imports = {}, set(), set()
    for statement in _statements(raw):
        words = [value for _, _, _, value in statement]
        if words[0] in ("import", "from") and statement[0][2] == "import":
            aliases.update(_import_aliases(words))
            imports.update(start for start, _, _, _ in statement)
            continue
        target_end = _assignment(words)
        for n in range(1, target_end):
            if words[n - 1] == "." and statement[n][2] == "name" and words[n + 1] in ("=", ",", *_AUGMENTED):
                own_attributes.add(words[n])
    return aliases, own_attributes, imports


_AUGMENTED = ("+", "-", "*", "/", "%", "@", "&", "|", "^", "<<", ">>", "**", "//")


def _statements(raw):
    """Runs of tokens from a line start at bracket depth 0 to the next one (or a `;`)."""
    statement, depth, line = [], 0, None
    for token in raw:
        value = token[3]
        if statement and ((depth == 0 and token[1] != line) or value == ";"):
            yield statement
            statement = []
        if value != ";":
            statement.append(token)
        depth = max(0, depth + (value in ("(", "[", "{")) - (value in (")", "]", "}")))
        line = token[1]
    if statement:
        yield statement


def _assignment(words):
    """The index of a statement's top-level assignment `=` (0 when it assigns nothing)."""
    depth = 0
    for n, word in enumerate(words):
        depth += (word in ("(", "[", "{")) - (word in (")", "]", "}"))
        if word == "=" and depth == 0 and n and words[n - 1] not in ("<", ">", "!"):
            return n
    return 0


def _import_aliases(words):
    """{bound name: full dotted name} for one `import ...` or `from ... import ...` statement."""
    words = [w for w in words if w not in ("(", ")")]
    found = {}
    if words[0] == "from":
        if "import" not in words:
            return found
        cut = words.index("import")
        clauses, prefix = words[cut + 1:], "".join(words[1:cut]) + "."
    else:
        clauses, prefix = words[1:], ""
    clause = []
    for word in clauses + [","]:
        if word != ",":
            clause.append(word)
            continue
        if "as" in clause and clause.index("as") + 1 < len(clause):
            cut = clause.index("as")
            found[clause[cut + 1]] = prefix + "".join(clause[:cut])
        elif clause:
            first = "".join(clause).split(".")[0]
            found[first] = prefix + first
        clause = []
    return found


def _line_starts(text):
    return [0] + [m.end() for m in re.finditer("\n", text)]


def functions(text: str, tokens: list[Token]) -> list[Function]:
    """Every `def` in the source, found from indentation (so a syntax error elsewhere does no harm)."""
    indents = _line_indents(text)
    found, scopes, depth, line = [], [], 0, None   # scopes: (indent, keyword, name, token index)
    for n, token in enumerate(tokens):
        if depth == 0 and token.line != line:
            indent = indents.get(token.line, 0)
            while scopes and indent <= scopes[-1][0]:
                found += _closed(scopes, n, tokens)
            keyword = "def" if token.text == "async" else token.text
            if keyword in ("def", "class") and n + 1 < len(tokens) and tokens[n + 1].text in (VARIABLE, "def"):
                named = tokens[n + 2] if token.text == "async" else tokens[n + 1]
                scopes.append((indent, keyword, text[named.start: named.end], n))
        depth = max(0, depth + (token.text in ("(", "[", "{")) - (token.text in (")", "]", "}")))
        line = token.line
    while scopes:
        found += _closed(scopes, len(tokens), tokens)
    return sorted(found, key=lambda f: f.first)


def _closed(scopes, stop, tokens):
    """Pop the innermost scope, which ends before token `stop`; a Function if it is a def."""
    qualified = ".".join(scope[2] for scope in scopes)
    _, keyword, _, index = scopes.pop()
    if keyword != "def":
        return []
    body, depth = stop, 0
    for n in range(index, stop):
        depth += (tokens[n].text in ("(", "[", "{")) - (tokens[n].text in (")", "]", "}"))
        if tokens[n].text == ":" and depth == 0:
            body = n + 1
            break
    return [Function(qualified, index, body, stop, tokens[index].start, tokens[stop - 1].end)]


def _line_indents(text):
    indents = {}
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" \t")
        if stripped:
            indents[number] = len(line.expandtabs(8)) - len(stripped.expandtabs(8))
    return indents


def student_functions(reference_text: str) -> list[str]:
    """Qualified names of the functions whose bodies hold a solution block in the reference."""
    tokens = normalise(reference_text)
    defs = functions(reference_text, tokens)
    names = []
    for block in _SOLUTION_BLOCK.finditer(reference_text):
        inside = [f for f in defs if f.start <= block.start() < f.end]
        if inside:
            innermost = max(inside, key=lambda f: f.start)
            if innermost.name not in names:
                names.append(innermost.name)
    return names
