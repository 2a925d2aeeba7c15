"""Public tests for training: worked examples and properties of your loop.

Run them with `make test` (or `grader test training`). Models, loaders and
optimizers cannot leave the sandbox your code runs in, so each test sends a
small *probe* function that builds them next to your module, calls your
functions and returns plain numbers. Hidden tests with other data and more
checks run when your work is graded.
"""
import numpy as np
import pytest

from grader.checks import expect_scalar, fail


def draws_after_set_seed(module, seed):
    """calling your set_seed and drawing from random, numpy and torch"""
    import random
    import numpy as np
    import torch
    module.set_seed(seed)
    return [random.random(), float(np.random.rand()), float(torch.rand(()))]


def loader_ids(module, n, batch_size, shuffle, seed):
    """building a loader with your make_dataloader and listing its batches"""
    import torch
    X = torch.arange(n, dtype=torch.float64).reshape(n, 1)
    loader = module.make_dataloader(X, torch.arange(n), batch_size, shuffle=shuffle, seed=seed)
    return [[x.ravel().tolist(), y.tolist()] for x, y in loader]


def train_one_weight(module, lr):
    """training y = w * x (one weight) for one epoch with your train_epoch"""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    model = nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        model.weight.fill_(0.5)
    x = torch.tensor([[1.0], [2.0], [3.0], [1.0], [2.0], [3.0]], dtype=torch.float64)
    loader = DataLoader(TensorDataset(x, 2 * x), batch_size=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    weights = []
    optimizer.register_step_post_hook(lambda opt, args, kwargs: weights.append(model.weight.item()))
    loss = module.train_epoch(model, loader, nn.MSELoss(), optimizer)
    return {"loss": loss, "weights": weights}


def modes_seen(module):
    """running your train_epoch and evaluate on a model that records its mode"""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    class Recorder(nn.Linear):
        seen = []

        def forward(self, x):
            self.seen.append([self.training, torch.is_grad_enabled()])
            return super().forward(x)

    torch.manual_seed(0)
    model = Recorder(2, 3)
    loader = DataLoader(TensorDataset(torch.randn(6, 2), torch.tensor([0, 1, 2, 0, 1, 2])), batch_size=3)
    loss_fn = nn.CrossEntropyLoss()
    model.eval()
    module.train_epoch(model, loader, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1))
    training, model.seen = model.seen, []
    model.train()
    module.evaluate(model, loader, loss_fn)
    return {"train_epoch": training, "evaluate": model.seen}


def evaluate_given_logits(module):
    """running your evaluate on a model whose outputs are given logits"""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.5, 0.0], [0.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 1, 1])
    loader = DataLoader(TensorDataset(logits, y), batch_size=2)
    return module.evaluate(nn.Identity(), loader, nn.CrossEntropyLoss())


def fit_history(module, epochs):
    """running your fit for a few epochs on a tiny classifier"""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    train = DataLoader(TensorDataset(torch.randn(8, 2), torch.randint(0, 2, (8,))), batch_size=4)
    val = DataLoader(TensorDataset(torch.randn(5, 2), torch.randint(0, 2, (5,))), batch_size=4)
    return module.fit(model, train, val, nn.CrossEntropyLoss(),
                      torch.optim.SGD(model.parameters(), lr=0.1), epochs)


@pytest.mark.points(1)
def test_set_seed_makes_draws_repeatable(student):
    """set_seed: the same seed gives the same draws from random, numpy and torch"""
    first, again, other = (student.probe(draws_after_set_seed, s) for s in (3, 3, 4))
    for name, a, b, c in zip(("random", "numpy", "torch"), first, again, other):
        if a != b:
            fail(f"set_seed(3) twice gave different {name} draws ({a} and {b}): is {name} seeded?")
        if a == c:
            fail(f"set_seed(3) and set_seed(4) gave the same {name} draw: is {name} seeded with `seed`?")


@pytest.mark.points(1)
def test_make_dataloader_in_order(student):
    """make_dataloader: 7 samples, batch_size 3, shuffle=False -> [0,1,2], [3,4,5], [6]"""
    batches = student.probe(loader_ids, 7, 3, False, 0)
    ids = [y for _, y in batches]
    if ids != [[0, 1, 2], [3, 4, 5], [6]]:
        fail(f"make_dataloader: expected the batches of ids [[0, 1, 2], [3, 4, 5], [6]], got {ids}")
    if any(x != [float(i) for i in y] for x, y in batches):
        fail("make_dataloader: the X rows do not travel with their Y entries")


@pytest.mark.points(1)
def test_make_dataloader_shuffle_follows_seed(student):
    """make_dataloader: shuffle=True is a permutation, the same for the same seed"""
    first = [i for _, y in student.probe(loader_ids, 12, 5, True, 1) for i in y]
    again = [i for _, y in student.probe(loader_ids, 12, 5, True, 1) for i in y]
    if sorted(first) != list(range(12)):
        fail(f"make_dataloader: a shuffled epoch should hold every sample once, got ids {first}")
    if first == list(range(12)):
        fail("make_dataloader: shuffle=True left the samples in order")
    if first != again:
        fail(f"make_dataloader: two loaders with seed=1 gave different orders ({first} vs {again})")


@pytest.mark.points(2)
def test_train_epoch_worked_example(student):
    """train_epoch: y = w x, w = 0.5, three batches of two, SGD lr 0.05, MSE"""
    got = student.probe(train_one_weight, 0.05)
    # By hand: for a batch (x, y = 2x), d/dw mean((w x - y)^2) = mean(2 x (w x - y)).
    w, weights, losses = 0.5, [], []
    for x in (np.array([1.0, 2.0]), np.array([3.0, 1.0]), np.array([2.0, 3.0])):
        losses.append(np.mean((w * x - 2 * x) ** 2))
        w -= 0.05 * np.mean(2 * x * (w * x - 2 * x))
        weights.append(w)
    if len(got["weights"]) != 3:
        fail(f"train_epoch made {len(got['weights'])} optimizer steps for 3 batches; expected one per batch")
    for step, (value, expected) in enumerate(zip(got["weights"], weights), start=1):
        if not np.isclose(value, expected, rtol=1e-9):
            why = ("each batch needs zero_grad(), forward, loss, backward(), step(), in this order" if step == 1
                   else "the first step is right: are the gradients zeroed before every backward()?")
            fail(f"train_epoch: w after step {step} is {value:.6g}, expected {expected:.6g} (the weights "
                 f"by hand are {np.round(weights, 6).tolist()}); {why}")
    expect_scalar(got["loss"], np.mean(losses), "train_epoch: the mean of the 3 batch losses")


@pytest.mark.points(2)
def test_train_and_eval_modes(student):
    """train_epoch uses train mode with gradients; evaluate uses eval mode under no_grad"""
    seen = student.probe(modes_seen)
    if not seen["train_epoch"] or not all(t and g for t, g in seen["train_epoch"]):
        fail("train_epoch: the model should be in train mode (model.train()) with gradients on, "
             f"even after model.eval(); [training, grad enabled] per forward call: {seen['train_epoch']}")
    if not seen["evaluate"] or any(t or g for t, g in seen["evaluate"]):
        fail("evaluate: the model should be in eval mode (model.eval()) under torch.no_grad(); "
             f"[training, grad enabled] per forward call: {seen['evaluate']}")


@pytest.mark.points(2)
def test_evaluate_worked_example(student):
    """evaluate: 5 given logits in batches of 2: per-sample mean loss and accuracy 3/5"""
    loss, accuracy = student.probe(evaluate_given_logits)
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.5, 0.0], [0.0, 2.0]])
    y = np.array([0, 0, 0, 1, 1])
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expect_scalar(loss, -log_softmax[np.arange(5), y].mean(),
                  "evaluate: loss (the mean over all 5 samples, not over the 3 batches)")
    expect_scalar(accuracy, 3 / 5, "evaluate: accuracy (argmax over dim 1 equals y for 3 of 5 samples)")


@pytest.mark.points(1)
def test_fit_history(student):
    """fit: history has train_loss, val_loss and val_acc with one float per epoch"""
    history = student.probe(fit_history, 3)
    if not isinstance(history, dict):
        fail(f"fit should return a dict, got {type(history).__name__}")
    for key in ("train_loss", "val_loss", "val_acc"):
        values = history.get(key)
        if not isinstance(values, list) or len(values) != 3:
            fail(f"fit: history[{key!r}] should be a list of 3 floats (one per epoch), got {values!r}")
        if not all(isinstance(v, float) for v in values):
            fail(f"fit: history[{key!r}] should hold Python floats, got {values!r}")
