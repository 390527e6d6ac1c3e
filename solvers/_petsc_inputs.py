"""What a PETSc solve (:func:`solvers.petsc.solve`, :func:`solvers.petsc.prepare`) checks of
its input before anything else: that every MPI rank passed the same inputs
(:func:`same_on_every_rank`, from a fingerprint per input), each rank's share of a
distributed input (:func:`rank_checks`: its layout, its values), a PETSc object that was
destroyed, a ``PETSc.Mat`` that is not assembled or not square, an ω option that contradicts
the solve's ω.  Importable from :mod:`solvers.petsc` as before.
"""
from __future__ import annotations

import zlib

import numpy as np
import scipy.sparse as sp

from ._mpi_exchange import exchange
from ._operator import CSROperator, prepare as _prepare_csr
from ._petsc_ksp import PETSc, options_key


def _check_alive(v, name: str) -> None:
    """Refuse a PETSc object the caller has destroyed: any PETSc call on it (even its
    communicator) dereferences a null handle and kills the process with SIGSEGV."""
    if isinstance(v, PETSc.Object) and not v:
        raise ValueError(f"{name} is a PETSc {type(v).__name__} that has been destroyed "
                         f"({name}.destroy() was called): create a new one")


def _check_petsc_mat(A) -> None:
    if not A.isAssembled():
        raise ValueError("A is a PETSc Mat that is not assembled: call A.assemble() first")
    (M, N) = A.getSize()
    if M != N:
        raise ValueError(f"A must be square, got a PETSc Mat of global size ({M}, {N})")
    if M == 0:
        raise ValueError("A is empty (PETSc Mat of size (0, 0))")
    (m, n) = A.getLocalSize()
    if m != n:
        raise ValueError(
            f"A's local row and column sizes differ on rank {A.getComm().getRank()} ({m} != {n}): "
            "use the same layout for rows and columns")


def _same_omega(omega: float, options) -> None:
    """sor and ssor_pcg set ω from their argument before every solve (``PCSORSetOmega``): an
    ω option of another value would be replaced without a word, so it is refused."""
    for name, value in options_key(options):
        if name in ("pc_sor_omega", "pc_eisenstat_omega"):
            try:
                same = float(value) == omega
            except ValueError:
                same = False
            if not same:
                raise ValueError(f"options {name} = {value} contradicts omega = {omega}: the "
                                 "solve sets ω from its omega argument (leave the option out)")


def _fingerprint(v) -> str:
    """A short text that two ranks' inputs share exactly when (in practice) they are equal.

    Arrays and sparse matrices: type, shape, dtype and a CRC-32 of their bytes (one pass over
    the data, cheaper than converting it); scalars and strings: their ``repr``; option dicts:
    their sorted entries; PETSc objects (distributed, so shared by construction) and prepared
    operators: their type.  Never raises: an input that cannot be read is described by the
    error, which every rank with the same input meets too.
    """
    try:
        if v is None or isinstance(v, (bool, int, float, complex, str)):
            return repr(v)
        if isinstance(v, np.generic):
            return repr(v.item())
        if isinstance(v, PETSc.Object) and not v:
            return f"destroyed {type(v).__name__}"
        from .petsc import PetscOperator  # (solvers.petsc imports this module)

        if isinstance(v, (PETSc.Object, PetscOperator)):
            return type(v).__name__
        if isinstance(v, dict):
            return repr(sorted((repr(k), _fingerprint(x)) for k, x in v.items()))
        if isinstance(v, CSROperator):
            arrays = (v.indptr, v.indices, v.data)
        elif sp.issparse(v):
            if v.format not in ("csr", "csc", "bsr", "coo", "dia"):
                v = v.tocsr()  # lil / dok hold Python objects
            arrays = tuple(getattr(v, a) for a in ("indptr", "indices", "row", "col",
                                                    "offsets", "data") if hasattr(v, a))
        else:
            arrays = (np.asarray(v),)
        crc, parts = 0, [type(v).__name__, str(getattr(v, "shape", ""))]
        for a in arrays:
            a = np.ascontiguousarray(a)
            if a.dtype == object:
                return f"{parts[0]} of Python objects {a.tolist()!r}"
            crc = zlib.crc32(a.view(np.uint8).reshape(-1), crc)
            parts.append(f"{a.dtype.str}{a.shape}")
        return f"{' '.join(parts)} crc {crc:08x}"
    except Exception as exc:  # noqa: BLE001 - the same input fails the same way on every rank
        return f"unreadable {type(v).__name__} ({type(exc).__name__}: {exc})"


#: inputs compared by what the solve makes of them when their raw fingerprints differ
_CANONICAL = ("A", "b", "x0")


def _canonical_fingerprint(v) -> str:
    """The fingerprint of the form a solve converts ``v`` to: a scipy matrix or dense array
    ``A`` as the CSR operator :func:`prepare` builds (sorted indices, its index and value
    types), a vector as contiguous native float64; anything else (a PETSc object, a
    ``CSROperator`` already converted, input the conversion refuses) as it is."""
    try:
        if sp.issparse(v) or (isinstance(v, np.ndarray) and v.ndim == 2):
            return _fingerprint(_prepare_csr(v))
        if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "biuf":
            return _fingerprint(np.ascontiguousarray(v, dtype=np.float64))
    except Exception:  # noqa: BLE001 - refused input is named by the checks that follow
        pass
    return _fingerprint(v)


def same_on_every_rank(comm, err=None, **inputs) -> None:
    """Raise ``ValueError`` on every rank of ``comm`` unless every rank passed the same inputs;
    raise ``err`` — this rank's refusal of its own share of the input (:func:`rank_checks`),
    or any exception of this rank's — on every rank.

    On several ranks each rank passes the whole matrix and vectors and keeps only its own
    rows, and every solve is collective: ranks with different inputs would solve a mixture of
    systems, or (a setting refused on one rank, a different iteration cap) leave the others
    waiting in a collective operation forever.  One exchange (:func:`solvers._mpi_exchange.
    exchange`, an ``allgather`` of ``(error, fingerprints)``) finds any difference
    (:func:`_fingerprint`) and any rank's refusal before anything else happens — the rank
    that refused raises its own error, the others the same class naming it (``rank 1: b has
    local size ...``); a failure another rank tells there (a Tuner's step that raised on one
    rank, :func:`solvers._mpi_exchange.fail`) is raised the same way.  Once the inputs agree,
    every check that follows gives the same verdict on every rank.  No-op on one rank (but
    for raising ``err``).

    Examples
    --------
    >>> same_on_every_rank(PETSc.COMM_SELF, b=np.ones(3), omega=1.5)  # one rank: nothing to do
    """
    if comm.getSize() == 1:
        if err is not None:
            raise err
        return
    mpi = comm.tompi4py()
    mine = {name: _fingerprint(v) for name, v in inputs.items()}
    every = exchange(mpi, mine, err)
    differ = [name for name in inputs if len({e[name] for e in every}) > 1]
    storage = [name for name in differ if name in _CANONICAL]
    if storage:
        # the same matrix or vector may be stored differently on different ranks (int32 or
        # int64 indices, byte order, unsorted indices, dense): compare what the solve will
        # use.  Only here (``differ`` is the same on every rank, so all of them take this
        # second exchange): on the common path no rank converts anything twice
        mine = {name: _canonical_fingerprint(inputs[name]) for name in storage}
        again = exchange(mpi, mine)
        differ = [name for name in differ
                  if name not in storage or len({e[name] for e in again}) > 1]
        every = [{**e, **a} for e, a in zip(every, again)]
    if differ:
        first = next(r for r, e in enumerate(every) if e != every[0])
        raise ValueError(
            f"the MPI ranks passed different {', '.join(differ)} (rank 0 and rank {first} "
            f"differ): on {comm.getSize()} ranks every rank must pass the same whole matrix "
            "and vectors and the same settings (each rank keeps its own rows of them)")


def _layout(A, comm):
    """``(n, rows)``: the global size of ``A`` and the rows this rank of ``comm`` owns (a
    ``PETSc.Mat``'s, a prepared operator's, or PETSc's default split of a matrix the solve
    converts, as :func:`solvers.petsc.to_petsc_mat` makes it); ``None`` if ``A`` cannot say
    (its own checks refuse it, on every rank)."""
    if isinstance(A, PETSc.Mat):
        return A.getSize()[0], A.getLocalSize()[0]
    n = getattr(A, "n", None)  # a PetscOperator or a CSROperator
    if n is None:
        shape = getattr(A, "shape", None)
        if not (isinstance(shape, tuple) and len(shape) == 2):
            return None
        n = shape[0]
    rows = getattr(A, "nlocal", None)
    if rows is None:  # PetscSplitOwnership
        size, rank = comm.getSize(), comm.getRank()
        rows = n // size + (n % size > rank)
    return int(n), int(rows)


def check_vec(v, name, n, rows, rank) -> None:
    """Refuse this rank's share of a ``PETSc.Vec`` ``v`` (``b`` or ``x0``): a global size
    other than ``A``'s ``n``, a local size other than the ``rows`` of ``A`` this rank owns,
    NaN or Inf among its entries — each named, the rank said (``rank``; ``None`` on one
    rank).  Reads this rank's entries only (a minimum and a maximum: NaN and ±Inf show in
    them): no collective step."""
    _check_alive(v, name)
    if v.getSize() != n:
        raise ValueError(f"{name} is a PETSc Vec of global size {v.getSize()}, expected "
                         f"{n} to match A ({n}x{n})")
    if v.getLocalSize() != rows:
        raise ValueError(
            f"{name} has local size {v.getLocalSize()} on rank {rank or 0}, but A owns {rows} "
            f"rows there: create it with A.createVecs()")
    a = v.getArray(readonly=True)
    if a.size and not (np.isfinite(a.min()) and np.isfinite(a.max())):
        where = "" if rank is None else f" (in the rows of rank {rank})"
        raise ValueError(f"{name} contains NaN or Inf{where}")


def rank_checks(A, b, x0, comm) -> None:
    """The checks of what each rank holds of a distributed input, which another rank cannot
    see — a ``PETSc.Mat`` destroyed, not assembled or with other local row and column sizes
    on this rank, a ``PETSc.Vec`` ``b``/``x0`` with another layout than ``A``'s rows here or
    NaN/Inf in this rank's entries — made before the solve's first exchange, which carries
    the verdict to every rank (:func:`same_on_every_rank`).  Without it a rank refusing its
    share alone left the others in the solve's next collective step (a hang).  Local calls
    only."""
    for name, v in (("A", A), ("b", b), ("x0", x0)):
        _check_alive(v, name)
    if isinstance(A, PETSc.Mat):
        _check_petsc_mat(A)
    vecs = [(name, v) for name, v in (("b", b), ("x0", x0)) if isinstance(v, PETSc.Vec)]
    layout = _layout(A, comm) if vecs else None
    for name, v in vecs:
        if layout is not None:
            check_vec(v, name, *layout, comm.getRank())
