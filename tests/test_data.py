"""ember.utils.data: datasets, samplers, collation and DataLoader vs torch.utils.data."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as ed

NO_TORCH = "torch not installed: comparison with torch.utils.data skipped"
Point = collections.namedtuple("Point", ["x", "y"])


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def same(e, t) -> None:
    """ember result ``e`` equals torch result ``t``: structure, container types, dtypes, values."""
    import torch as T

    if isinstance(t, T.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert e.dtype.name == str(t.dtype).removeprefix("torch."), (e.dtype, t.dtype)
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e).__name__ == type(t).__name__ and list(e) == list(t)
        for k in t:
            same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e).__name__ == type(t).__name__ and len(e) == len(t), (e, t)
        for a, b in zip(e, t, strict=True):
            same(a, b)
    else:
        assert type(e) is type(t) and e == t, (e, t)


def pair(lib, n=10, feat=3):
    x = np.arange(n * feat, dtype=np.float32).reshape(n, feat)
    y = np.arange(n) % 3
    return lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y))


# ------------------------------------------------------------------------ batching vs torch
@pytest.mark.parametrize(
    "bs,drop", [(1, False), (3, False), (3, True), (4, True), (10, False), (20, False), (20, True)]
)
def test_sequential_batches_match_torch(torch, bs, drop):
    e_dl = ed.DataLoader(pair(ember), batch_size=bs, drop_last=drop)
    t_dl = torch.utils.data.DataLoader(pair(torch), batch_size=bs, drop_last=drop)
    assert len(e_dl) == len(t_dl)
    eb, tb = list(e_dl), list(t_dl)
    assert len(eb) == len(tb) == len(t_dl)
    same(eb, tb)


class DictDS:
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {
            "img": np.full((2, 2), i, np.float32),
            "label": i,
            "w": i / 2,
            "name": f"s{i}",
            "flag": bool(i % 2),
            "pt": Point(i, np.int32(i)),
        }


@pytest.mark.parametrize("bs", [None, 1, 3])
def test_custom_dataset_collate_matches_torch(torch, bs):
    same(
        list(ed.DataLoader(DictDS(), batch_size=bs)),
        list(torch.utils.data.DataLoader(DictDS(), batch_size=bs)),
    )


COLLATE_CASES = [
    [1, 2, 3],
    [1.5, 2.0],
    [True, False],
    [np.float32(1), np.float32(2)],
    [np.int64(3), np.int64(4)],
    [np.arange(3), np.arange(3, 6)],
    [np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)],
    ["a", "b"],
    [(1, "x", 2.0), (2, "y", 3.0)],
    [[1, 2], [3, 4]],
    [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    [collections.OrderedDict(z=1, a=2), collections.OrderedDict(z=3, a=4)],
    [Point(1, 2.0), Point(3, 4.0)],
]


@pytest.mark.parametrize("batch", COLLATE_CASES, ids=range(len(COLLATE_CASES)))
def test_default_collate_matches_torch(torch, batch):
    same(ed.default_collate(batch), torch.utils.data.default_collate(batch))
    for sample in batch:
        same(ed.default_convert(sample), torch.utils.data.default_convert(sample))


def test_collate_tensors(torch):
    rows = [np.arange(3, dtype=np.float64) + i for i in range(4)]
    same(
        ed.default_collate([(ember.tensor(r), ember.tensor(i)) for i, r in enumerate(rows)]),
        torch.utils.data.default_collate(
            [(torch.tensor(r), torch.tensor(i)) for i, r in enumerate(rows)]
        ),
    )


def test_collate_errors(torch):
    for lib, mod in ((ember, ed), (torch, torch.utils.data)):
        with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
            mod.default_collate([[1, 2], [3]])
        with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
            mod.default_collate([object(), object()])
        with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
            mod.default_collate([lib.zeros(2), lib.zeros(3)])


def test_collate_float_is_float64_without_torch():
    out = ed.default_collate([(0.5, 1, np.float32(2.0))] * 3)
    assert [t.dtype for t in out] == [ember.float64, ember.int64, ember.float32]
    assert isinstance(ed.default_collate([{"s": "a"}, {"s": "b"}])["s"], list)


# ------------------------------------------------------------------------ samplers
def test_batch_sampler_matches_torch(torch):
    for bs in (1, 3, 4):
        for drop in (False, True):
            e = ed.BatchSampler(ed.SequentialSampler(range(10)), bs, drop)
            t = torch.utils.data.BatchSampler(
                torch.utils.data.SequentialSampler(range(10)), bs, drop
            )
            assert list(e) == list(t) and len(e) == len(t)


def test_sampler_index_sets():
    g = ember.Generator().manual_seed(3)
    perm = list(ed.RandomSampler(range(50), generator=g))
    assert sorted(perm) == list(range(50)) and perm != list(range(50))
    rs = ed.RandomSampler(range(10), num_samples=25, generator=g)
    draws = list(rs)
    assert len(draws) == len(rs) == 25 and sorted(set(draws)) == list(range(10))
    rep = list(ed.RandomSampler(range(5), replacement=True, num_samples=70, generator=g))
    assert len(rep) == 70 and set(rep) <= set(range(5)) and len(set(rep)) == 5
    sub = list(ed.SubsetRandomSampler([3, 7, 11, 19], generator=g))
    assert sorted(sub) == [3, 7, 11, 19]
    w = ed.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g)
    ws = list(w)
    assert len(ws) == len(w) == 200 and set(ws) == {1, 3} and ws.count(3) > ws.count(1)
    nr = list(ed.WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], 4, replacement=False, generator=g))
    assert sorted(nr) == [0, 1, 2, 3]
    assert list(ed.SequentialSampler(range(4))) == [0, 1, 2, 3]


def test_sampler_errors_match_torch(torch):
    cases = [
        (lambda m: m.BatchSampler(range(3), 0, False), ValueError, "batch_size should be a pos"),
        (lambda m: m.BatchSampler(range(3), 2, 1), ValueError, "drop_last should be a boolean"),
        (lambda m: m.RandomSampler(range(3), replacement=1), TypeError, "replacement should be"),
        (lambda m: m.RandomSampler([]), ValueError, "num_samples should be a positive integer"),
        (lambda m: m.WeightedRandomSampler([1.0], 0), ValueError, "num_samples should be a pos"),
        (lambda m: m.WeightedRandomSampler([[1.0]], 1), ValueError, "weights should be a 1d"),
    ]
    for fn, exc, msg in cases:
        for mod in (ed, torch.utils.data):
            with pytest.raises(exc, match=msg):
                fn(mod)


# ------------------------------------------------------------------------ shuffling
def epoch_labels(dl):
    return [int(v) for _, y in dl for v in y.tolist()]


def test_shuffle_reproducible_with_generator():
    ds = ed.TensorDataset(ember.arange(40).reshape(20, 2), ember.arange(20))
    runs = []
    for _ in range(2):
        dl = ed.DataLoader(
            ds, batch_size=6, shuffle=True, generator=ember.Generator().manual_seed(7)
        )
        runs.append([epoch_labels(dl), epoch_labels(dl)])
    assert runs[0] == runs[1]  # same seed: same order, epoch by epoch
    e1, e2 = runs[0]
    assert sorted(e1) == sorted(e2) == list(range(20)) and e1 != e2 and e1 != list(range(20))
    other = ed.DataLoader(
        ds, batch_size=6, shuffle=True, generator=ember.Generator().manual_seed(8)
    )
    assert epoch_labels(other) != e1


def test_shuffle_follows_global_seed():
    ds = ed.TensorDataset(ember.arange(30))
    dl = ed.DataLoader(ds, batch_size=4, shuffle=True)
    ember.manual_seed(0)
    a = [int(v) for (b,) in dl for v in b.tolist()]
    ember.manual_seed(0)
    b = [int(v) for (b,) in dl for v in b.tolist()]
    assert a == b and sorted(a) == list(range(30)) and a != list(range(30))


def test_fast_tensor_path_equals_generic_path():
    x = ember.randn(23, 3, 2)
    y = ember.randint(0, 5, (23,))
    ds = ed.TensorDataset(x, y)
    sub = ed.random_split(ds, [0.6, 0.4], generator=ember.Generator().manual_seed(1))[0]
    for d in (ds, sub, ed.Subset(sub, list(range(5, 12)))):
        fast = list(
            ed.DataLoader(d, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(2))
        )
        slow = list(
            ed.DataLoader(
                d,
                batch_size=5,
                shuffle=True,
                generator=ember.Generator().manual_seed(2),
                collate_fn=lambda b: ed.default_collate(b),
            )
        )
        assert len(fast) == len(slow)
        for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
            assert isinstance(fx, ember.Tensor) and fx.dtype == sx.dtype and fy.dtype == sy.dtype
            np.testing.assert_array_equal(fx.numpy(), sx.numpy())
            np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    w = ember.ones(4, 2, requires_grad=True)  # tensors that need grad keep their graph
    (xb,) = next(iter(ed.DataLoader(ed.TensorDataset(w), batch_size=2)))
    assert xb.grad_fn is not None and xb.grad_fn.name() == "StackBackward0"


# ------------------------------------------------------------------------ datasets
def test_random_split():
    ds = ed.TensorDataset(ember.arange(10))
    a, b, c = ed.random_split(ds, [0.5, 0.3, 0.2], generator=ember.Generator().manual_seed(0))
    assert (len(a), len(b), len(c)) == (5, 3, 2)
    idx = a.indices + b.indices + c.indices
    assert sorted(idx) == list(range(10))
    a2, _, _ = ed.random_split(ds, [0.5, 0.3, 0.2], generator=ember.Generator().manual_seed(0))
    assert a2.indices == a.indices
    assert [len(s) for s in ed.random_split(range(11), [0.34, 0.33, 0.33])] == [4, 4, 3]
    assert [len(s) for s in ed.random_split(range(7), [3, 4])] == [3, 4]
    assert int(a[0][0]) == a.indices[0]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        ed.random_split(ds, [3, 4])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        ed.random_split(ds, [0.2, 1.3, -0.5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ed.random_split(range(2), [0.9, 0.05, 0.05])
    assert [str(w.message)[:31] for w in caught] == [
        "Length of split at index 1 is 0",
        "Length of split at index 2 is 0",
    ]


def test_random_split_sizes_match_torch(torch):
    for n, fr in ((10, [0.7, 0.3]), (11, [0.34, 0.33, 0.33]), (100, [0.8, 0.1, 0.1])):
        e = [len(s) for s in ed.random_split(range(n), fr)]
        t = [len(s) for s in torch.utils.data.random_split(range(n), fr)]
        assert e == t


def test_datasets_match_torch(torch):
    items = [
        (lambda m, lib: m.ConcatDataset([pair(lib, 4), pair(lib, 3)]), [0, 3, 4, 6, -1, -7]),
        (lambda m, lib: pair(lib, 4) + pair(lib, 2), [5, 1]),
        (lambda m, lib: m.Subset(pair(lib, 6), [5, 0, 2]), [0, 1, 2]),
        (lambda m, lib: m.StackDataset(pair(lib, 3), range(3)), [2]),
        (lambda m, lib: m.StackDataset(a=pair(lib, 3), b=range(3)), [1]),
    ]
    for make, idx in items:
        e, t = make(ed, ember), make(torch.utils.data, torch)
        assert len(e) == len(t)
        for i in idx:
            same(e[i], t[i])
    for mod, lib in ((ed, ember), (torch.utils.data, torch)):
        with pytest.raises(AssertionError, match="Size mismatch between tensors"):
            mod.TensorDataset(lib.zeros(3), lib.zeros(4))
        with pytest.raises(ValueError, match="absolute value of index should not exceed"):
            mod.ConcatDataset([pair(lib, 2)])[-3]
        with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement"):
            mod.Dataset()[0]


class Stream(ed.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset_matches_torch(torch):
    class TStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(10))

        def __len__(self):
            return 10

    for kw in (dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None)):
        e, t = ed.DataLoader(Stream(10), **kw), torch.utils.data.DataLoader(TStream(), **kw)
        assert len(e) == len(t)
        same(list(e), list(t))
    assert list(ed.ChainDataset([Stream(2), Stream(3)])) == [0, 1, 0, 1, 2]
    assert len(Stream(2) + Stream(3)) == 5


# ------------------------------------------------------------------------ DataLoader misc
def test_dataloader_errors_match_torch(torch):
    cases = [
        (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    ]
    for kw, msg in cases:
        for mod, lib in ((ed, ember), (torch.utils.data, torch)):
            with pytest.raises(ValueError, match=msg):
                mod.DataLoader(pair(lib), **kw)
    for mod, lib in ((ed, ember), (torch.utils.data, torch)):
        dl = mod.DataLoader(pair(lib))
        with pytest.raises(ValueError, match="batch_size attribute should not be set after"):
            dl.batch_size = 3
        dl.num_workers = 0  # other attributes may change
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        ed.DataLoader(Stream(3), shuffle=True)


def test_samplers_and_batch_sampler_in_loader(torch):
    kws = [
        dict(sampler=[9, 0, 4, 4], batch_size=3),
        dict(batch_sampler=[[1, 2], [0], [8, 9, 7]]),
        dict(sampler=ed.SequentialSampler(range(5)), batch_size=2, drop_last=True),
    ]
    for kw in kws:
        tkw = {
            k: (
                torch.utils.data.SequentialSampler(range(5))
                if isinstance(v, ed.SequentialSampler)
                else v
            )
            for k, v in kw.items()
        }
        e, t = ed.DataLoader(pair(ember), **kw), torch.utils.data.DataLoader(pair(torch), **tkw)
        assert len(e) == len(t)
        same(list(e), list(t))


def test_num_workers_runs_in_process_with_one_warning():
    ds = pair(ember, 6)
    ed.dataloader._warned_workers = False
    with pytest.warns(UserWarning, match="in the calling process"):
        dl = ed.DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ed.DataLoader(ds, batch_size=4, num_workers=2)
        got = list(dl)
    want = list(ed.DataLoader(ds, batch_size=4))
    assert len(got) == len(want) == len(dl) == 2
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert ed.get_worker_info() is None


def test_training_loop_lesson_style():
    """The tutorial pattern: enumerate(loader), unpack (x, y), len(loader.dataset)."""
    ds = pair(ember, 9)
    dl = ed.DataLoader(ds, batch_size=4, shuffle=True)
    seen = 0
    for i, (xb, yb) in enumerate(dl):
        assert xb.dtype == ember.float32 and yb.dtype == ember.int64 and xb.shape[1] == 3
        seen += len(xb)
    assert i == 2 and seen == len(dl.dataset) == 9
