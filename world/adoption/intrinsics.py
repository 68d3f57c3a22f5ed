"""LLVM intrinsics the adoption kernels call from numba: cache hints, an atomic add, a bit cast.

Why: the kernels are limited by memory, not arithmetic. Neighbour states, counts and in-lists
sit at random places in arrays of 10^7 elements, so the kernels ask for many cache lines at once
(``prefetch``, ``prefetch_write``) before touching any. The parallel incremental kernel updates
counts that two threads may share (``atomic_add``), and the exp polynomial builds 2**k from its
exponent bits (``bits_to_float``). numba exposes none of these, so each is a few lines of IR.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _prefetch_codegen(write: int) -> Any:
    """Code for ``llvm.prefetch`` of ``arr[idx]``: read (0) or write (1) intent."""

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [context.cast(builder, args[1], idxty, types.intp)])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # (address, read or write, high temporal locality, data cache)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(write), i32(3), i32(1)])
        return context.get_dummy_value()

    return codegen


@intrinsic
def prefetch(typingctx: object, arr: types.Type, idx: types.Type) -> tuple | None:
    """Hint the CPU to fetch ``arr[idx]`` into cache; no bounds check, never faults."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    return types.void(arr, idx), _prefetch_codegen(0)


@intrinsic
def prefetch_write(typingctx: object, arr: types.Type, idx: types.Type) -> tuple | None:
    """Like ``prefetch`` but with intent to write (PREFETCHW), for count updates."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    return types.void(arr, idx), _prefetch_codegen(1)


@intrinsic
def atomic_add(
    typingctx: object, arr: types.Type, idx: types.Type, val: types.Type
) -> tuple | None:
    """``arr[idx] += val`` as one atomic read-modify-write (wrapping), for the parallel kernel.

    Integer addition commutes, so the result never depends on which thread adds first.
    """
    if (
        not isinstance(arr, types.Array)
        or not isinstance(arr.dtype, types.Integer)
        or not isinstance(idx, types.Integer)
        or not isinstance(val, types.Integer)
    ):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        aryty, idxty, valty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [context.cast(builder, args[1], idxty, types.intp)])
        width = aryty.dtype.bitwidth
        value = args[2]
        if valty.bitwidth > width:
            value = builder.trunc(value, ir.IntType(width))
        elif valty.bitwidth < width:
            value = builder.sext(value, ir.IntType(width))
        builder.atomic_rmw("add", ptr, value, "monotonic")
        return context.get_dummy_value()

    return types.void(arr, idx, val), codegen


@intrinsic
def bits_to_float(typingctx: object, x: types.Type) -> tuple | None:
    """Reinterpret the 64 bits of an integer as a float64 (to build 2**k exactly)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(x), codegen
