"""ember.save / ember.load: round trips, the documented format, refusal of unsafe or corrupt
files, and reading PyTorch checkpoints without running pickle code."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from ember.serialization import MANIFEST, load, save

NO_TORCH = "torch not installed: loading torch.save checkpoints is checked against torch"


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def roundtrip(obj):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)


def eq(a, b) -> None:
    """Loaded ``a`` equals original ``b``: same types, dtypes, shapes, values, flags."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(b, ember.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.is_leaf
    elif isinstance(b, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(b, dict):
        assert list(a) == list(b)
        for k in b:
            eq(a[k], b[k])
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            eq(x, y)
    elif isinstance(b, float) and math.isnan(b):
        assert math.isnan(a)
    else:
        assert a == b


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(ember.randn(4, 3))
        self.b = nn.Parameter(ember.zeros(4, dtype=ember.float64))
        self.register_buffer("steps", ember.tensor(0))
        self.register_buffer("mask", ember.tensor([True, False, True]))


# ------------------------------------------------------------------------ round trips
def test_roundtrip_types():
    obj = {
        "f32": ember.randn(2, 3),
        "f64": ember.randn(3, dtype=ember.float64),
        "f16": ember.ones(2, dtype=ember.float16),
        "i64": ember.arange(5),
        "i8": ember.tensor([-1, 2], dtype=ember.int8),
        "u8": ember.tensor([255], dtype=ember.uint8),
        "b": ember.tensor([True, False]),
        "c": ember.tensor([1 + 2j]),
        "scalar": ember.tensor(3.5),
        "empty": ember.zeros(0, 4),
        "rg": ember.ones(3, requires_grad=True),
        "param": nn.Parameter(ember.randn(2)),
        "frozen": nn.Parameter(ember.randn(2), False),
        "nums": [1, -(2**70), 2.5, float("nan"), math.inf, -math.inf, 1 - 2j, None, True, "é"],
        "tup": (1, (2, [3])),
        "size": ember.Size([2, 3]),
        "dt": ember.float16,
        "dev": ember.device("cpu"),
        "bytes": b"\x00\xffab",
        "set": {1, "a"},
        "fs": frozenset([3]),
        "np": np.arange(6, dtype=np.int32).reshape(2, 3),
        "npscalar": np.float32(1.25),
        7: "int key",
        (1, "k"): "tuple key",
        None: "none key",
        2.5: "float key",
        "od": OrderedDict([("z", 1), ("a", 2)]),
    }
    out = roundtrip(obj)
    eq(out, obj)
    assert type(out["size"]) is ember.Size and type(out["param"]) is nn.Parameter
    assert out["frozen"].requires_grad is False and type(out["npscalar"]) is np.float32
    out["f32"].add_(1)  # loaded tensors are writable and independent of the file
    assert out["np"].flags.writeable


def test_view_and_noncontiguous_tensors():
    base = ember.arange(12.0).reshape(3, 4)
    out = roundtrip({"t": base.t(), "row": base[1], "step": base[:, ::2]})
    np.testing.assert_array_equal(out["t"].numpy(), base.numpy().T)
    np.testing.assert_array_equal(out["row"].numpy(), base.numpy()[1])
    np.testing.assert_array_equal(out["step"].numpy(), base.numpy()[:, ::2])


def test_non_leaf_tensor_is_saved_as_leaf_requiring_grad():
    x = ember.ones(2, requires_grad=True)
    out = roundtrip(x * 2)
    assert out.is_leaf and out.requires_grad and out.grad_fn is None


def test_tied_tensors_stay_one_object():
    w = nn.Parameter(ember.randn(3))
    out = roundtrip({"enc": w, "dec": w, "other": w.detach()})
    assert out["enc"] is out["dec"] and out["other"] is not out["enc"]
    with zipfile.ZipFile(_saved({"a": w, "b": w})) as zf:
        assert sorted(zf.namelist()) == ["data/0.npy", MANIFEST]


def test_state_dict_roundtrip_through_a_file(tmp_path):
    net = Net()
    path = tmp_path / "net.pt"
    save(net.state_dict(), path)
    sd = load(str(path))
    assert isinstance(sd, OrderedDict) and list(sd) == ["w", "b", "steps", "mask"]
    fresh = Net()
    fresh.load_state_dict(sd)
    for (k, a), (_, b) in zip(fresh.state_dict().items(), net.state_dict().items(), strict=True):
        assert a.dtype == b.dtype, k
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert [p.name for p in tmp_path.iterdir()] == ["net.pt"]  # no temporary files left


def test_optimizer_state_roundtrip_continues_identically():
    ember.manual_seed(0)
    w0 = ember.randn(5, dtype=ember.float64)

    def make():
        p = nn.Parameter(w0.clone())
        return p, ember.optim.Adam([p], lr=0.1, amsgrad=True)

    def step(p, opt):
        opt.zero_grad()
        ((p**3).sum()).backward()
        opt.step()

    p1, o1 = make()
    for _ in range(3):
        step(p1, o1)
    sd = roundtrip({"model": {"p": p1}, "optim": o1.state_dict(), "epoch": 3})
    assert list(sd["optim"]["state"]) == [0] and sd["optim"]["param_groups"][0]["params"] == [0]
    assert sd["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    p2, o2 = make()
    with ember.no_grad():
        p2.copy_(sd["model"]["p"])
    o2.load_state_dict(sd["optim"])
    for _ in range(3):
        step(p1, o1)
        step(p2, o2)
    np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())


def _saved(obj) -> io.BytesIO:
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return buf


def test_format_is_documented_json_plus_npy():
    raw = _saved({"w": ember.ones(2, 3), "n": 4})
    with zipfile.ZipFile(raw) as zf:
        man = json.loads(zf.read(MANIFEST))
        arr = np.load(io.BytesIO(zf.read("data/0.npy")), allow_pickle=False)
    assert man == {
        "format": "ember",
        "version": 1,
        "root": {"type": "dict", "items": [["w", {"type": "tensor", "index": 0}], ["n", 4]]},
        "tensors": [
            {
                "file": "data/0.npy",
                "kind": "tensor",
                "dtype": "float32",
                "shape": [2, 3],
                "requires_grad": False,
            }
        ],
    }
    assert arr.dtype == np.float32 and arr.shape == (2, 3)
    assert _saved({"a": ember.ones(3)}).getvalue() == _saved({"a": ember.ones(3)}).getvalue()


def test_save_refuses_objects_and_keeps_old_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"ok": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"can't store an object of type .*Net \(at obj\['m'\]\)"):
        save({"m": Net()}, path)
    with pytest.raises(TypeError, match="save model.state_dict"):
        save(lambda x: x, path)
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="circular reference"):
        save(loop, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["ckpt.pt"]
    with pytest.raises(RuntimeError, match="Parent directory .*nope does not exist"):
        save({}, tmp_path / "nope" / "x.pt")


# ------------------------------------------------------------------------ refusing bad files
def _forge(manifest: dict | str, files: dict | None = None) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(MANIFEST, manifest if isinstance(manifest, str) else json.dumps(manifest))
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def _npy(arr, allow_pickle=False) -> bytes:
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=allow_pickle)
    return b.getvalue()


def _man(root, tensors=()):
    return {"format": "ember", "version": 1, "tensors": list(tensors), "root": root}


T0 = {
    "file": "data/0.npy",
    "kind": "tensor",
    "dtype": "float32",
    "shape": [2],
    "requires_grad": False,
}


@pytest.mark.parametrize(
    "manifest,files,match",
    [
        (
            _man({"type": "dict", "items": [["a", {"type": "posix.system", "args": ["ls"]}]]}),
            {},
            r"unknown type 'posix.system' at root\['a'\]",
        ),
        (
            _man({"type": "tensor", "index": 0}, [dict(T0, kind="module")]),
            {"data/0.npy": b""},
            "unknown kind 'module'",
        ),
        (
            _man({"type": "tensor", "index": 3}, [T0]),
            {"data/0.npy": _npy(np.zeros(2, np.float32))},
            "tensor index 3 at root",
        ),
        (_man(None, [dict(T0, file="../../etc/passwd")]), {}, "not a data file"),
        (_man(None, [T0]), {}, "not a data file"),
        (_man(None, [dict(T0, dtype="object")]), {}, "unknown dtype 'object'"),
        (_man(None, [dict(T0, shape=[-1])]), {}, "invalid shape"),
        (_man(None, [dict(T0, dtype="int64", requires_grad=True)]), {}, "invalid requires_grad"),
        (_man({"type": "list", "items": [[1, 2]]}), {}, r"unexpected JSON list at root\[0\]"),
        (_man({"type": "list", "items": [], "extra": 1}), {}, "has fields"),
        (_man({"type": "set", "items": [{"type": "list", "items": []}]}), {}, "unhashable list"),
        (_man({"type": "OrderedDict", "items": [], "attrs": {"__class__": 1}}), {}, "_metadata"),
        (_man({"type": "float", "value": "1e400"}), {}, "not nan/inf"),
        ({"format": "ember", "version": 99, "tensors": [], "root": None}, {}, "version 99"),
        ({"format": "other", "version": 1, "tensors": [], "root": None}, {}, "format 'ember'"),
        ("{not json", {}, "not valid JSON"),
    ],
)
def test_forged_manifests_are_refused(manifest, files, match):
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed.*" + match):
        load(_forge(manifest, files))


@pytest.mark.parametrize(
    "payload,match",
    [
        (_npy(np.zeros(3, np.float32)), r"shape \[3\] but the manifest says float32 \[2\]"),
        (_npy(np.zeros(2, np.float64)), "float64 array"),
        (_npy(np.array([{"x": 1}, None], dtype=object), allow_pickle=True), "not a valid .npy"),
        (b"\x93NUMPY garbage", "not a valid .npy"),
        (_npy(np.zeros(2, np.float32)) + b"\0" * 300000, "far more than"),
    ],
)
def test_bad_arrays_are_refused(payload, match):
    with pytest.raises(RuntimeError, match=match):
        load(_forge(_man({"type": "tensor", "index": 0}, [T0]), {"data/0.npy": payload}))


def test_corrupt_files(tmp_path):
    good = _saved({"w": ember.ones(100)}).getvalue()
    with pytest.raises(EOFError, match="Ran out of input"):
        load(io.BytesIO(b""))
    with pytest.raises(pickle.UnpicklingError, match="invalid load key"):
        load(io.BytesIO(b"hello world"))
    with pytest.raises(RuntimeError, match="failed reading zip archive"):
        load(io.BytesIO(good[: len(good) // 2]))
    flipped = bytearray(good)
    flipped[good.index(b"\x93NUMPY") + 200] ^= 0xFF  # corrupt the array bytes: CRC mismatch
    with pytest.raises(RuntimeError, match="failed reading file"):
        load(io.BytesIO(bytes(flipped)))
    with pytest.raises(pickle.UnpicklingError, match="neither an ember file"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("readme.txt", "hi")
        load(io.BytesIO(buf.getvalue()))
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")
    with pytest.raises(RuntimeError, match="CUDA device"):
        load(io.BytesIO(good), map_location="cuda")
    assert load(io.BytesIO(good), map_location="cpu")["w"].shape == (100,)
    assert load(io.BytesIO(good), map_location=lambda s, loc: s)["w"].shape == (100,)


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _torch_like_zip(payload: bytes) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
    buf.seek(0)
    return buf


@pytest.mark.parametrize("proto", [0, 1, 2, 4, 5])
def test_malicious_pickle_is_refused_without_running(tmp_path, proto):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": [1, _Evil(marker)]}, protocol=proto)
    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL (posix|nt)"):
        load(_torch_like_zip(payload))
    with pytest.raises(pickle.UnpicklingError, match="bare pickle"):
        load(io.BytesIO(payload))
    assert not marker.exists()


def test_pickle_build_on_other_objects_is_refused():
    # BUILD may set a state_dict's _metadata, nothing else (here: attributes on a set)
    payload = b"\x80\x02cbuiltins\nset\n)R}X\x01\x00\x00\x00aK\x01sb."
    with pytest.raises(pickle.UnpicklingError, match="BUILD"):
        load(_torch_like_zip(payload))


# ------------------------------------------------------------------------ torch checkpoints
def _torch_file(torch, obj) -> io.BytesIO:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


def _same_as_torch(e, t) -> None:
    import torch as T

    if isinstance(t, T.Tensor):
        assert isinstance(e, ember.Tensor)
        assert isinstance(e, nn.Parameter) == isinstance(t, T.nn.Parameter)
        assert e.dtype.name == str(t.dtype).removeprefix("torch.") and e.shape == t.shape
        assert e.requires_grad == t.requires_grad
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            _same_as_torch(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) or isinstance(t, T.Size), (type(e), type(t))
        for a, b in zip(e, t, strict=True):
            _same_as_torch(a, b)
    elif isinstance(t, T.dtype):
        assert e.name == str(t).removeprefix("torch.")
    elif isinstance(t, T.device):
        assert str(e) == str(t)
    else:
        assert type(e) is type(t) and e == t


def test_load_torch_state_dicts_exactly(torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4, 2)
    )
    model(torch.randn(3, 1, 3, 3))  # training mode: running stats move away from 0 / 1
    model.add_module("head", torch.nn.Linear(2, 2, dtype=torch.float64))
    sd = model.state_dict()
    out = load(_torch_file(torch, sd))
    _same_as_torch(out, sd)
    assert out["1.num_batches_tracked"].dtype == ember.int64
    assert float(out["1.running_mean"].abs().sum()) > 0
    assert out._metadata == sd._metadata  # torch's state_dict versions survive


def test_load_torch_containers_and_dtypes(torch):
    p = torch.nn.Parameter(torch.randn(2, 3))
    opt = torch.optim.Adam([p], lr=0.01)
    p.grad = torch.ones(2, 3)
    opt.step()
    base = torch.arange(24.0).reshape(4, 6)
    obj = {
        "p": p,
        "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
        "opt": opt.state_dict(),
        "dtypes": [torch.float16, torch.int64, torch.bool],
        "size": torch.Size([2, 3]),
        "dev": torch.device("cpu"),
        "bytes": b"\x00\xff",
        "t": base.t(),
        "slice": base[1:3, 2:5],
        "row": base[2],
        "view_of_p": p[1],
        "half": torch.tensor([1.5, -2.0], dtype=torch.float16),
        "i32": torch.tensor([1, -2], dtype=torch.int32),
        "u8": torch.tensor([200], dtype=torch.uint8),
        "b": torch.tensor([True, False]),
        "c": torch.tensor([1 + 2j, 3j]),
        "c128": torch.tensor([1 + 2j], dtype=torch.complex128),
        "scalar": torch.tensor(7),
        "empty": torch.zeros(0, 3),
        "nums": (1, 2.5, None, "s"),
        "set": {1, 2},
        "nested": [{"a": torch.ones(1)}],
    }
    out = load(_torch_file(torch, obj))
    _same_as_torch(out, obj)
    assert out["dtypes"] == [ember.float16, ember.int64, ember.bool]
    assert type(out["size"]) is ember.Size


def test_load_torch_bfloat16_becomes_float32(torch):
    t = torch.tensor([1.5, -3.25, 1e30], dtype=torch.bfloat16)
    with pytest.warns(UserWarning, match="bfloat16 tensors were converted to float32"):
        out = load(_torch_file(torch, {"x": t}))
    assert out["x"].dtype == ember.float32
    np.testing.assert_array_equal(out["x"].numpy(), t.float().numpy())


def test_torch_weights_drive_an_ember_module(torch, tmp_path):
    tnet = torch.nn.Module()
    tnet.w = torch.nn.Parameter(torch.randn(4, 3))
    tnet.b = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    tnet.register_buffer("steps", torch.tensor(5))
    tnet.register_buffer("mask", torch.tensor([True, False, True]))
    path = tmp_path / "from_torch.pt"
    torch.save(tnet.state_dict(), path)
    enet = Net()
    enet.load_state_dict(load(path))
    np.testing.assert_array_equal(enet.w.detach().numpy(), tnet.w.detach().numpy())
    assert int(enet.steps) == 5


def test_torch_whole_model_and_numpy_are_refused(torch):
    with pytest.raises(
        pickle.UnpicklingError, match=r"GLOBAL torch\.nn\.modules\.linear\.Linear.*state_dict"
    ):
        load(_torch_file(torch, torch.nn.Linear(2, 2)))
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL numpy"):
        load(_torch_file(torch, {"a": np.arange(3)}))


def test_torch_cuda_locations_need_map_location(torch):
    raw = _torch_file(torch, {"w": torch.ones(3)}).getvalue()
    name = next(n for n in zipfile.ZipFile(io.BytesIO(raw)).namelist() if n.endswith("data.pkl"))
    pkl = zipfile.ZipFile(io.BytesIO(raw)).read(name)
    cuda = pkl.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    assert cuda != pkl
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, cuda if n == name else src.read(n))
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        load(io.BytesIO(buf.getvalue()))
    for ml in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        out = load(io.BytesIO(buf.getvalue()), map_location=ml)
        np.testing.assert_array_equal(out["w"].numpy(), np.ones(3, np.float32))


def test_torch_forged_storage_bounds_are_refused(torch):
    raw = _torch_file(torch, {"w": torch.ones(4)}).getvalue()
    src = zipfile.ZipFile(io.BytesIO(raw))
    name = next(n for n in src.namelist() if n.endswith("data.pkl"))
    pkl = src.read(name)
    # size (4,) -> (9,): a view reaching past its 4-element storage
    forged = pkl.replace(b"K\x04\x85", b"K\x09\x85", 1)
    assert forged != pkl
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, forged if n == name else src.read(n))
    with pytest.raises(pickle.UnpicklingError, match="reaches past its storage"):
        load(io.BytesIO(buf.getvalue()))
