"""Support code the C++ bridge calls: module loading, the timed callable, CUDA-event timing, host copies."""
import importlib.util
import os
import sys

import numpy as np

_loaded = {}


def import_file(path):
    """Imports a backend file under a private name; its folder joins sys.path for its own imports."""
    path = os.path.abspath(path)
    if path in _loaded:
        return _loaded[path]
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.append(folder)
    stem = os.path.splitext(os.path.basename(path))[0]
    name = "attnbench_backend_%d_%s" % (len(_loaded), "".join(c if c.isalnum() else "_" for c in stem))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("not a Python source file: %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _loaded[path] = module
    return module


def pass_callable(forward, backward, run, state, pass_name):
    """The one call the harness times for a pass; returns (forward result, backward result)."""
    if run is not None:
        if pass_name == "fwd":
            return lambda: (run(state, "fwd"), None)
        if pass_name == "bwd":
            return lambda: (None, run(state, "bwd"))

        def fwd_bwd():
            out = run(state, "fwd_bwd")
            return (tuple(out[:2]), tuple(out[2:])) if out is not None else (None, None)

        return fwd_bwd
    if pass_name == "fwd":
        return lambda: (forward(state), None)
    if pass_name == "bwd":
        return lambda: (None, backward(state))
    return lambda: (forward(state), backward(state))


def _torch():
    return sys.modules.get("torch")


def timed_cuda(fn):
    """Times fn() with CUDA events on torch's current stream, like the native CUDA backends.

    The events bracket the kernels fn() enqueues; end.synchronize() waits for them,
    so the host-side launch overhead counts only where it stalls the stream.
    """
    torch = _torch()
    if torch is None or not torch.cuda.is_available():
        import time

        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    stream = torch.cuda.current_stream()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record(stream)
    out = fn()
    end.record(stream)
    end.synchronize()
    return start.elapsed_time(end) / 1e3, out


def to_host(x):
    """Any array-like (NumPy array, torch tensor on any device) as a float32 C-contiguous NumPy array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().float().cpu().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def reset_peak_memory():
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_bytes():
    torch = _torch()
    if torch is None or not torch.cuda.is_available():
        return None
    return int(torch.cuda.max_memory_allocated())


def release_cached_memory():
    """Called when a case ends: the next case (maybe a native backend) gets the memory back."""
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
