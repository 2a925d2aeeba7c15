"""Mutation operators: the bugs students make in ML code, as source rewrites.

Each operator is a small function registered with `@operator(family, what)`:
given one libcst node of the reference (inside a solution block) and the
`Site` around it, it yields replacement nodes, one per mutant. `what` says
what the bug is in a student's terms; it is printed beside every surviving
mutant. Families group operators the way the audit reports them.

libcst is the plumbing (a concrete syntax tree that prints back the exact
source, so a mutant differs from the reference in one place and its diff is
one hunk); the operators are ours: mutmut and cosmic-ray only offer generic
operators (arithmetic, comparison, constants) and run their own test loop,
whereas the audit grades mutants through the grader itself.
"""
import dataclasses
from collections.abc import Callable, Iterator

import libcst as cst

_PRINTER = cst.Module(body=[])
ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)


@dataclasses.dataclass(frozen=True)
class Site:
    """Where a node sits: its function, that function's parameters, the module's libraries."""
    function: str               # qualified name, e.g. "LinearFunction.backward"
    parameters: tuple           # names of the enclosing function's parameters, in order
    loop_names: frozenset       # names bound by for-loops and comprehensions in that function
    local_names: frozenset      # every name the function assigns (loop names included)
    torch: bool                 # the module imports torch
    numpy: bool                 # the module imports numpy as np
    inside: Callable            # inside(node) -> True when node lies in a solution block
    loaded: bool = False        # the node is a name being read (not assigned, not a keyword)


@dataclasses.dataclass(frozen=True)
class Operator:
    name: str
    family: str
    what: str                   # the bug, in a student's terms
    mutate: Callable[[cst.CSTNode, Site], Iterator[cst.CSTNode]]


OPERATORS: list[Operator] = []
FAMILIES = ("arithmetic", "comparison", "constant", "reduction", "sign", "axes", "keepdims",
            "off-by-one", "shape", "loop", "in-place", "autograd", "train-mode", "seed", "dtype",
            "return-type", "activation", "variable", "dropped-call")


def operator(family: str, what: str):
    assert family in FAMILIES, family

    def register(function):
        OPERATORS.append(Operator(function.__name__, family, what, function))
        return function
    return register


def select(names: list[str] | None) -> list[Operator]:
    """The operators named (by operator or family name); all of them for None."""
    if not names:
        return list(OPERATORS)
    unknown = set(names) - {o.name for o in OPERATORS} - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown operators or families: {', '.join(sorted(unknown))}")
    return [o for o in OPERATORS if o.name in names or o.family in names]


# --- helpers --------------------------------------------------------------------

def code(node: cst.CSTNode) -> str:
    return _PRINTER.code_for_node(node)


def expr(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def atom(node: cst.CSTNode) -> str:
    """node's source, in parentheses unless it binds tightly already."""
    text = code(node)
    return text if isinstance(node, ATOMS) or node.lpar else f"({text})"


def call_name(node: cst.CSTNode) -> str | None:
    """'sum' for x.sum(...) or np.sum(...), 'range' for range(...); None otherwise."""
    if not isinstance(node, cst.Call):
        return None
    if isinstance(node.func, cst.Name):
        return node.func.value
    if isinstance(node.func, cst.Attribute):
        return node.func.attr.value
    return None


def dotted(node: cst.CSTNode) -> str:
    """'np.random.default_rng' for that attribute chain; '' for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    return ""


def with_args(call: cst.Call, args: list[cst.Arg]) -> cst.Call:
    """call with its argument list replaced (printed on one line)."""
    rendered = ", ".join(code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for a in args)
    return expr(f"{code(call.func)}({rendered})")


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword and a.keyword.value == name), None)


def numeric(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.Integer, cst.Float))


def is_expression_statement_call(line: cst.CSTNode) -> cst.Call | None:
    """The call of a line that is a bare call (`optimizer.step()`), else None."""
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        statement = line.body[0]
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            return statement.value
    return None


PASS = cst.parse_statement("pass\n")


def replace_line(block: cst.IndentedBlock, index: int, lines: list) -> cst.IndentedBlock:
    body = list(block.body)
    leading = body[index].leading_lines
    if lines:
        lines = [lines[0].with_changes(leading_lines=leading), *lines[1:]]
    body[index:index + 1] = lines or [PASS.with_changes(leading_lines=leading)]
    return block.with_changes(body=body)


# --- arithmetic, comparison, constants ------------------------------------------

ARITHMETIC = {cst.Add: [cst.Subtract], cst.Subtract: [cst.Add], cst.Multiply: [cst.Divide],
              cst.Divide: [cst.Multiply, cst.FloorDivide], cst.FloorDivide: [cst.Divide],
              cst.Power: [cst.Multiply], cst.MatrixMultiply: [cst.Multiply]}


@operator("arithmetic", "uses the wrong arithmetic operator (+ for -, * for /, ** for *, * for @, // for /)")
def swap_arithmetic(node, site):
    if isinstance(node, cst.BinaryOperation):
        for kind in ARITHMETIC.get(type(node.operator), ()):
            yield node.with_changes(operator=kind(whitespace_before=node.operator.whitespace_before,
                                                  whitespace_after=node.operator.whitespace_after))


BOUNDARY = {cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
            cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan}
NEGATION = {cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.Is: cst.IsNot, cst.IsNot: cst.Is,
            cst.LessThan: cst.GreaterThanEqual, cst.GreaterThan: cst.LessThanEqual,
            cst.In: cst.NotIn, cst.NotIn: cst.In}


def _compare(node, table):
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        target = node.comparisons[0]
        kind = table.get(type(target.operator))
        if kind is not None:
            text = code(node.left) + {
                cst.LessThan: " < ", cst.LessThanEqual: " <= ", cst.GreaterThan: " > ",
                cst.GreaterThanEqual: " >= ", cst.Equal: " == ", cst.NotEqual: " != ",
                cst.Is: " is ", cst.IsNot: " is not ", cst.In: " in ", cst.NotIn: " not in "}[kind]
            yield expr(text + code(target.comparator))


@operator("comparison", "gets a boundary wrong (< where <= is due, or the reverse)")
def boundary_comparison(node, site):
    yield from _compare(node, BOUNDARY)


@operator("comparison", "tests the opposite condition (== for !=, is for is not, < for >=)")
def negate_comparison(node, site):
    yield from _compare(node, NEGATION)


@operator("constant", "uses a slightly wrong constant (n+1 or n-1; twice or half a float)")
def change_constant(node, site):
    if isinstance(node, cst.Integer):
        value = int(node.value, 0)
        for new in (value + 1, value - 1):
            if new >= 0:
                yield node.with_changes(value=str(new))
    elif isinstance(node, cst.Float):
        value = float(node.value)
        for new in ((1.0,) if value == 0 else (value * 2, value / 2)):
            yield node.with_changes(value=repr(new))


# --- sums, means and factors ------------------------------------------------------

@operator("reduction", "takes a sum where a mean is due, or a mean where a sum is due")
def swap_sum_mean(node, site):
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        swapped = {"sum": "mean", "mean": "sum", "nansum": "nanmean", "nanmean": "nansum"}.get(
            node.func.attr.value)
        if swapped:
            yield node.with_changes(func=node.func.with_changes(attr=cst.Name(swapped)))


@operator("reduction", "forgets a division (a missing 1/m: a sum where a mean is due)")
def drop_divisor(node, site):
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Divide, cst.FloorDivide)):
        yield node.left.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else node.left


def _batch_size(node) -> bool:
    """len(y), y.size(0), y.shape[0]: the size of a batch."""
    if call_name(node) == "len" and isinstance(node.func, cst.Name):
        return True
    if call_name(node) == "size" and len(node.args) == 1 and code(node.args[0].value) == "0":
        return True
    return (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute)
            and node.value.attr.value == "shape" and code(node).endswith("[0]"))


@operator("reduction", "averages per-batch means without weighting each by its batch size "
                       "(a short last batch counts as much as a full one)")
def unweighted_batch_mean(node, site):
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply) \
            and _batch_size(node.right):
        yield node.left
    elif isinstance(node, cst.AugAssign) and isinstance(node.operator, cst.AddAssign) \
            and _batch_size(node.value):
        yield node.with_changes(value=cst.Integer("1"))        # counts batches, not samples


@operator("reduction", "drops a constant factor (the 2 in the derivative of a square, a 0.5)")
def drop_factor(node, site):
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Multiply, cst.Divide)):
        if numeric(node.left) and isinstance(node.operator, cst.Multiply):
            yield node.right
        elif numeric(node.right):
            yield node.left


# --- signs -------------------------------------------------------------------------

@operator("sign", "drops a minus sign")
def drop_negation(node, site):
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        yield node.expression


@operator("sign", "subtracts the wrong way round (b - a instead of a - b)")
def swap_subtraction(node, site):
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Subtract):
        yield expr(f"{atom(node.right)} - {atom(node.left)}").with_changes(lpar=node.lpar, rpar=node.rpar)


@operator("sign", "returns the negative of the right result (a gradient with the wrong sign)")
def negate_result(node, site):
    if isinstance(node, cst.Return) and isinstance(node.value, (cst.BinaryOperation, cst.Call)):
        if call_name(node.value) not in ("float", "int", "len", "sum", "DataLoader", "tuple"):
            yield node.with_changes(value=expr(f"-{atom(node.value)}"))


# --- axes and transposes --------------------------------------------------------------

AXIS_METHODS = {"sum", "mean", "max", "min", "argmax", "argmin", "softmax", "log_softmax", "cumsum",
                "std", "var", "any", "all", "norm", "flip", "cat", "stack", "concatenate",
                "transpose", "unsqueeze", "squeeze", "size", "expand_dims", "logsumexp"}


def _other_axes(value):
    if value in (0, 1):
        return [1 - value]
    return [value - 1] if value > 1 else [value - 1 if value < -1 else 0]


def _axis_variants(value_node):
    """Other axes for an axis argument: an int, a negative int or a tuple of ints."""
    if isinstance(value_node, cst.Integer):
        return [str(v) for v in _other_axes(int(value_node.value))]
    if isinstance(value_node, cst.UnaryOperation) and isinstance(value_node.expression, cst.Integer):
        return [str(v) for v in _other_axes(-int(value_node.expression.value))]
    if isinstance(value_node, cst.Tuple) and len(value_node.elements) > 1:
        kept = [code(e.value) for e in value_node.elements]
        return [f"({', '.join(kept[:i] + kept[i + 1:])},)" for i in range(len(kept))]
    return []


@operator("axes", "reduces or indexes along the wrong axis (axis=0 for axis=1, the wrong dim)")
def swap_axis(node, site):
    if not isinstance(node, cst.Call):
        return
    name = call_name(node)
    for position, arg in enumerate(node.args):
        axis_keyword = arg.keyword and arg.keyword.value in ("axis", "dim", "axes")
        axis_position = (arg.keyword is None and name in AXIS_METHODS and position == 0
                         and isinstance(node.func, cst.Attribute) and not dotted(node.func.value) in ("np", "torch"))
        if axis_keyword or axis_position:
            for variant in _axis_variants(arg.value):
                args = list(node.args)
                args[position] = arg.with_changes(value=expr(variant))
                yield node.with_changes(args=args)


@operator("axes", "forgets a transpose (X instead of X.T)")
def drop_transpose(node, site):
    if isinstance(node, cst.Attribute) and node.attr.value in ("T", "mT"):
        yield node.value
    elif call_name(node) in ("transpose", "t") and isinstance(node.func, cst.Attribute):
        receiver = node.func.value
        if dotted(receiver) in ("np", "torch") and node.args:
            yield node.args[0].value
        elif dotted(receiver) not in ("np", "torch"):
            yield receiver


@operator("axes", "transposes the wrong operand of a matrix product")
def add_transpose(node, site):
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, (cst.Name, cst.Subscript, cst.Call)):
                yield node.with_changes(**{side: expr(f"{code(operand)}.T")})


@operator("keepdims", "drops keepdims=True, so a (n, 1) result becomes (n,)")
def drop_keepdims(node, site):
    if isinstance(node, cst.Call):
        for name in ("keepdims", "keepdim"):
            arg = keyword(node, name)
            if arg is not None:
                yield with_args(node, [a for a in node.args if a is not arg])


# --- off by one -------------------------------------------------------------------------

@operator("off-by-one", "loops one time too few or too many (range bounds off by one)")
def range_bounds(node, site):
    if call_name(node) == "range" and isinstance(node.func, cst.Name) and node.args:
        args = list(node.args)
        if len(args) == 1:
            changes = [(0, "- 1"), (0, "+ 1")]
        else:
            changes = [(0, "+ 1"), (1, "- 1")]
        for index, delta in changes:
            new = list(args)
            new[index] = args[index].with_changes(value=expr(f"{atom(args[index].value)} {delta}"))
            yield with_args(node, new)


@operator("off-by-one", "takes a slice one element too short or shifted (x[a:b-1], x[a+1:b])")
def slice_bounds(node, site):
    if isinstance(node, cst.Slice):
        if node.upper is not None:
            yield node.with_changes(upper=expr(f"{atom(node.upper)} - 1"))
        if node.lower is not None:
            yield node.with_changes(lower=expr(f"{atom(node.lower)} + 1"))


@operator("off-by-one", "forgets a +1 or -1 (an output-size formula, a 1-based index)")
def drop_plus_one(node, site):
    if (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract))
            and isinstance(node.right, cst.Integer) and node.right.value == "1"):
        yield node.left


# --- shapes ---------------------------------------------------------------------------------

def _array_like(value):
    return (isinstance(value, (cst.BinaryOperation, cst.Subscript))
            or (isinstance(value, cst.Call) and call_name(value) not in (
                "float", "int", "len", "range", "list", "dict", "tuple", "item", "DataLoader",
                "TensorDataset", "Generator", "manual_seed", "Parameter", "Linear", "Conv1d",
                "Embedding", "default_rng", "sqrt", "str", "zip", "enumerate", "apply")))


@operator("shape", "squeezes a result, which only goes wrong when a dimension is 1 (a batch of one)")
def insert_squeeze(node, site):
    if isinstance(node, cst.Return) and node.value is not None and _array_like(node.value):
        yield node.with_changes(value=expr(f"{atom(node.value)}.squeeze()"))
    elif (isinstance(node, cst.Assign) and len(node.targets) == 1
          and isinstance(node.targets[0].target, cst.Name) and _array_like(node.value)):
        yield node.with_changes(value=expr(f"{atom(node.value)}.squeeze()"))


LAYERS = {"Linear", "Conv1d", "Conv2d", "Embedding", "Bilinear"}


@operator("shape", "builds a layer with its sizes swapped (nn.Linear(out, in) for nn.Linear(in, out))")
def swap_layer_sizes(node, site):
    if call_name(node) in LAYERS and len(node.args) >= 2 and not any(a.keyword for a in node.args[:2]):
        first, second = node.args[0], node.args[1]
        args = [first.with_changes(value=second.value), second.with_changes(value=first.value),
                *node.args[2:]]
        yield node.with_changes(args=args)


# --- loops ------------------------------------------------------------------------------------

def _loop_body_with(node, lines, at_end=True):
    body = list(node.body.body)
    extra = [cst.parse_statement(line) for line in lines]
    body = body + extra if at_end else extra + body
    return node.with_changes(body=node.body.with_changes(body=body))


@operator("loop", "stops after the first pass of a loop (one batch, one epoch, one step)")
def break_after_first(node, site):
    if isinstance(node, cst.For) and isinstance(node.body, cst.IndentedBlock):
        yield _loop_body_with(node, ["break\n"])


@operator("loop", "skips the last pass of a loop (the last, possibly partial, batch)")
def skip_last_iteration(node, site):
    if isinstance(node, cst.For):
        yield node.with_changes(iter=expr(f"list({code(node.iter)})[:-1]"))


@operator("loop", "skips the first pass of a loop (the first batch or step)")
def skip_first_iteration(node, site):
    if isinstance(node, cst.For):
        yield node.with_changes(iter=expr(f"list({code(node.iter)})[1:]"))


# --- in-place updates ---------------------------------------------------------------------------

INPLACE = {cst.Add: "__iadd__", cst.Subtract: "__isub__", cst.Multiply: "__imul__",
           cst.Divide: "__itruediv__"}


@operator("in-place", "updates an argument in place (w -= ...) instead of building a new array")
def inplace_update(node, site):
    if (isinstance(node, cst.BinaryOperation) and type(node.operator) in INPLACE
            and isinstance(node.left, cst.Name)
            and node.left.value in {*site.parameters, *site.loop_names}
            and node.left.value not in ("self", "ctx") and not numeric(node.right)):
        yield expr(f"{node.left.value}.{INPLACE[type(node.operator)]}({code(node.right)})")


# --- autograd ---------------------------------------------------------------------------------------

@operator("autograd", "forgets .detach(), so a result keeps its graph")
def drop_detach(node, site):
    if call_name(node) == "detach" and isinstance(node.func, cst.Attribute) and not node.args:
        yield node.func.value


def _autograd_function(site) -> bool:
    """forward/backward of a torch.autograd.Function: they run without a graph already."""
    return "ctx" in site.parameters


@operator("autograd", "detaches a result, so no gradient flows back through it")
def add_detach(node, site):
    if (site.torch and not _autograd_function(site) and isinstance(node, cst.Return)
            and node.value is not None and _array_like(node.value)):
        yield node.with_changes(value=expr(f"{atom(node.value)}.detach()"))


def _no_grad(statement):
    return (isinstance(statement, cst.With) and len(statement.items) == 1
            and dotted(getattr(statement.items[0].item, "func", None)) in ("torch.no_grad", "no_grad"))


@operator("autograd", "forgets `with torch.no_grad():`, so the work builds a graph (or updates are tracked)")
def drop_no_grad(node, site):
    if isinstance(node, cst.IndentedBlock):
        for index, statement in enumerate(node.body):
            if _no_grad(statement) and site.inside(statement):
                yield replace_line(node, index, list(statement.body.body))


@operator("autograd", "runs a function's work under torch.no_grad(), so nothing can be differentiated")
def add_no_grad(node, site):
    if (site.torch and isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock)
            and not _autograd_function(site)):
        body = list(node.body.body)
        chosen = [i for i, s in enumerate(body) if site.inside(s)]
        if not chosen or any(_no_grad(body[i]) for i in chosen) or node.name.value == "__init__":
            return
        first, last = chosen[0], chosen[-1]
        wrapped = cst.With(items=[cst.WithItem(item=expr("torch.no_grad()"))],
                           body=cst.IndentedBlock(body=body[first:last + 1]),
                           leading_lines=body[first].leading_lines)
        body[first:last + 1] = [wrapped]
        yield node.with_changes(body=node.body.with_changes(body=body))


# --- training mode -------------------------------------------------------------------------------------

MODE_CALLS = {"train", "eval", "zero_grad"}


@operator("train-mode", "forgets model.train(), model.eval() or optimizer.zero_grad()")
def drop_mode_call(node, site):
    if isinstance(node, cst.IndentedBlock):
        for index, line in enumerate(node.body):
            if site.inside(line) and call_name(is_expression_statement_call(line)) in MODE_CALLS:
                yield replace_line(node, index, [])


@operator("train-mode", "puts the model in the wrong mode (train() for eval(), or the reverse)")
def swap_mode(node, site):
    if call_name(node) in ("train", "eval") and isinstance(node.func, cst.Attribute) and not node.args:
        other = "eval" if node.func.attr.value == "train" else "train"
        yield node.with_changes(func=node.func.with_changes(attr=cst.Name(other)))


def _step_lines(block: cst.IndentedBlock) -> dict:
    """{'zero_grad': i, 'backward': j, 'step': k}: where those bare calls sit in the block."""
    found = {}
    for index, line in enumerate(block.body):
        name = call_name(is_expression_statement_call(line))
        if name in ("zero_grad", "backward", "step") and name not in found:
            found[name] = index
    return found


def _moved(block: cst.IndentedBlock, source: int, target: int) -> cst.IndentedBlock:
    """block with the line at `source` moved so that it ends up at index `target`."""
    body = list(block.body)
    body.insert(target, body.pop(source))
    return block.with_changes(body=body)


@operator("train-mode", "orders a training step wrongly (zero_grad() between backward() and step(), "
                        "or step() before backward())")
def misorder_step(node, site):
    if not isinstance(node, cst.IndentedBlock):
        return
    at = _step_lines(node)
    if not {"zero_grad", "backward", "step"} <= set(at) or not at["zero_grad"] < at["backward"] < at["step"]:
        return
    if all(site.inside(node.body[i]) for i in at.values()):
        yield _moved(node, at["zero_grad"], at["backward"])      # the gradients are wiped before the step
        yield _moved(node, at["step"], at["backward"])           # the step uses the previous batch's gradients


# --- seeds ----------------------------------------------------------------------------------------------

@operator("seed", "draws from numpy's global random generator instead of one seeded with `seed`")
def global_rng(node, site):
    if isinstance(node, cst.Call) and dotted(node.func) == "np.random.default_rng":
        yield expr("np.random")


@operator("seed", "ignores the seed it was given (a fixed seed instead)")
def fixed_seed(node, site):
    if call_name(node) in ("default_rng", "manual_seed", "seed", "Generator"):
        for position, arg in enumerate(node.args):
            if isinstance(arg.value, cst.Name) and arg.value.value in site.parameters:
                args = list(node.args)
                args[position] = arg.with_changes(value=cst.Integer("1234"))
                yield node.with_changes(args=args)


@operator("seed", "never seeds the random generator (the global torch/numpy state decides)")
def drop_seeding(node, site):
    if isinstance(node, cst.IndentedBlock):
        for index, line in enumerate(node.body):
            if site.inside(line) and call_name(is_expression_statement_call(line)) in ("seed", "manual_seed"):
                yield replace_line(node, index, [])
    elif call_name(node) == "manual_seed" and isinstance(node.func, cst.Attribute) \
            and isinstance(node.func.value, cst.Call):
        yield node.func.value                              # torch.Generator().manual_seed(s) -> torch.Generator()
    elif isinstance(node, cst.Call) and keyword(node, "generator") is not None:
        yield with_args(node, [a for a in node.args if a is not keyword(node, "generator")])


# --- dtypes and return types -------------------------------------------------------------------------------

ALLOCATORS = {"zeros", "ones", "empty", "full", "asarray", "array", "zeros_like", "ones_like"}


@operator("dtype", "computes in float32 where float64 is due")
def float32_cast(node, site):
    if isinstance(node, cst.Attribute) and node.attr.value in ("float64", "double"):
        yield node.with_changes(attr=cst.Name("float32"))
    elif (site.numpy and isinstance(node, cst.Call) and dotted(node.func).startswith("np.")
          and call_name(node) in ALLOCATORS and keyword(node, "dtype") is None):
        yield with_args(node, [*node.args, cst.Arg(keyword=cst.Name("dtype"), value=expr("np.float32"),
                                                   equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                                         cst.SimpleWhitespace("")))])
    elif (site.numpy and not site.torch and isinstance(node, cst.Return)
          and isinstance(node.value, (cst.BinaryOperation, cst.Call)) and _array_like(node.value)):
        yield node.with_changes(value=expr(f"{atom(node.value)}.astype(np.float32)"))


@operator("return-type", "returns an array or a tensor where a Python float is due")
def drop_float(node, site):
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "float" \
            and len(node.args) == 1:
        yield node.args[0].value
    elif call_name(node) == "item" and isinstance(node.func, cst.Attribute) and not node.args:
        yield node.func.value


ACTIVATIONS = {"relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "exp", "leaky_relu", "elu"}


@operator("activation", "forgets an activation (no ReLU, no sigmoid, no exp)")
def drop_activation(node, site):
    if call_name(node) in ACTIVATIONS and len(node.args) == 1 and not node.args[0].keyword:
        yield node.args[0].value


@operator("activation", "uses the wrong activation (sigmoid for ReLU, tanh for sigmoid)")
def swap_activation(node, site):
    other = {"relu": "sigmoid", "sigmoid": "tanh", "tanh": "sigmoid", "gelu": "relu"}.get(call_name(node))
    if other and dotted(node.func).startswith(("torch.", "F.", "nn.functional.")):
        yield node.with_changes(func=node.func.with_changes(attr=cst.Name(other)))


def _confusable(a: str, b: str) -> bool:
    """Names a student mixes up: X and x, x and xp, y and y_pred, kh and kw, h_out and w_out."""
    if a == b or "_" in (a, b) or {a, b} & {"self", "ctx"}:
        return False
    short, long = sorted((a, b), key=len)
    if a.lower() == b.lower() or (long.startswith(short) and (len(long) == len(short) + 1
                                                              or long[len(short)] == "_")):
        return True
    return len(a) == len(b) > 1 and sum(x != y for x, y in zip(a, b)) == 1


@operator("variable", "uses the wrong variable (X for x, x for the padded xp, y for y_pred, kh for kw)")
def swap_variable(node, site):
    if isinstance(node, cst.Name) and site.loaded:
        known = {*site.parameters, *site.local_names}
        if node.value in known:
            for other in sorted(n for n in known if _confusable(node.value, n)):
                yield node.with_changes(value=other)


@operator("dropped-call", "leaves out a call (saving tensors for backward, a step, an append)")
def drop_call_statement(node, site):
    if isinstance(node, cst.IndentedBlock):
        for index, line in enumerate(node.body):
            call = is_expression_statement_call(line)
            if call is not None and site.inside(line) and call_name(call) not in (
                    MODE_CALLS | {"seed", "manual_seed"}):
                yield replace_line(node, index, [])
