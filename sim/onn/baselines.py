# Ref: TTS99 = t_run * ln(0.01) / ln(1 - Ps).
"""Max-Cut values and the reference solvers the oscillator array is compared with: cut values,
brute force (small n), seeded single-spin-flip simulated annealing, simulated bifurcation,
time to solution."""

import math

import numpy as np

__all__ = ["cut_value", "brute_force", "tts99", "anneal", "bifurcation", "improving_flips"]


def cut_value(W: np.ndarray, bits) -> np.ndarray:
    """Cut weight of assignment(s) ``bits`` (0/1, shape (..., n))."""
    s = 1 - 2 * np.asarray(bits, dtype=np.int64)
    total = np.triu(W, 1).sum()
    energy = np.einsum("...i,ij,...j->...", s, W, s) // 2
    return (total - energy) // 2


def brute_force(W: np.ndarray, chunk: int = 1 << 16) -> tuple[int, np.ndarray]:
    """Exact Max-Cut by enumeration (node n-1 fixed on side 0); fine up to n ~ 24."""
    n = W.shape[0]
    if n > 26:
        raise ValueError(f"brute force is for n <= 26, not {n}")
    best, arg = -1 << 62, None
    shifts = np.arange(n - 1, dtype=np.int64)
    for start in range(0, 1 << (n - 1), chunk):
        k = np.arange(start, min(start + chunk, 1 << (n - 1)), dtype=np.int64)
        bits = np.zeros((len(k), n), dtype=np.int64)
        bits[:, :n - 1] = (k[:, None] >> shifts) & 1
        c = cut_value(W, bits)
        i = int(np.argmax(c))
        if c[i] > best:
            best, arg = int(c[i]), bits[i].copy()
    return best, arg


def tts99(t_run: float, ps: float) -> float:
    """Time to reach the target with 99 % confidence from runs of length ``t_run`` succeeding
    with probability ``ps``: ``t_run * ln(0.01) / ln(1 - ps)``; ``t_run`` if ``ps >= 0.99``
    (one run is the least), ``inf`` if ``ps == 0``."""
    if not 0 <= ps <= 1:
        raise ValueError(f"success probability must be in 0..1, not {ps!r}")
    if ps >= 0.99:
        return float(t_run)
    if ps == 0:
        return math.inf
    return t_run * math.log(0.01) / math.log(1 - ps)


def anneal(W: np.ndarray, sweeps: int, seeds, t_hot: float | None = None,
           t_cold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Simulated annealing for Max-Cut: Metropolis single-spin flips on ``E = sum_{i<j} w_ij
    s_i s_j`` (a lower E is a larger cut), nodes visited in order 0..n-1 each sweep, geometric
    temperature from ``t_hot`` to ``t_cold`` over ``sweeps``; one independent run per seed
    (batched). One sweep = n spin-update attempts (the OIM's epoch updates n phases).

    Defaults: ``t_hot = 1.0 * rms local field`` (sqrt of the mean of sum_j w_ij^2), ``t_cold =
    0.1 * the smallest non-zero |w|`` (chosen by the sweep in ``docs/onn.md``). Returns
    (cuts, assignments) of the final states (the best state is not tracked separately:
    at t_cold the final state is a local optimum).
    """
    W = np.asarray(W, dtype=np.int64)
    n = W.shape[0]
    seeds = np.atleast_1d(np.asarray(seeds))
    nz = np.abs(W[W != 0])
    if t_hot is None:
        t_hot = 1.0 * math.sqrt(max(float((W.astype(float) ** 2).sum(axis=1).mean()), 1.0))
    if t_cold is None:
        t_cold = 0.1 * (float(nz.min()) if nz.size else 1.0)
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    R = len(seeds)
    s = np.stack([1 - 2 * r.integers(0, 2, n) for r in rngs]).astype(np.int64)
    h = s @ W                                   # h_i = sum_j w_ij s_j
    Wf = W.astype(np.int64)
    ratio = (t_cold / t_hot) ** (1 / max(sweeps - 1, 1))
    T = t_hot
    rows = np.arange(R)
    for _ in range(sweeps):
        u = np.stack([r.random(n) for r in rngs])
        logu = np.log(np.maximum(u, 1e-300)) * T
        for i in range(n):
            dE = -2 * s[:, i] * h[:, i]         # energy change if spin i flips
            flip = -dE >= logu[:, i]            # dE <= 0 always; else with prob exp(-dE/T)
            if flip.any():
                r = rows[flip]
                h[r] -= 2 * s[r, i][:, None] * Wf[i][None, :]
                s[r, i] = -s[r, i]
        T *= ratio
    bits = (1 - s) // 2
    return cut_value(W, bits), bits


def bifurcation(W: np.ndarray, steps: int, seeds, dt: float = 0.5,
                c: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Discrete simulated bifurcation (dSB, Goto et al., Sci. Adv. 7, eabe7953, 2021) in
    floating point: a second reference for the oscillator machine, not hardware of this
    project. Per node a position x and a momentum y (uniform in +-0.1 at the start); each step
    ``y += dt (-(1 - a) x + c0 sum_j J_ij sign(x_j))``, ``x += dt y`` with ``a`` rising
    linearly from 0 to 1 over ``steps``, then the inelastic walls (``|x| > 1``: ``x = sign(x)``,
    ``y = 0``). ``J = -W`` (Max-Cut), ``c0 = c * 0.5 / (sqrt(n) * sigma_J)`` (``sigma_J`` the
    rms coupling over i != j; ``c`` = 1 is the paper's choice). One step updates all n nodes,
    like one OIM epoch. One run per seed (batched). Returns (cuts, assignments) from sign(x)
    after the last step."""
    W = np.asarray(W, dtype=np.int64)
    n = W.shape[0]
    seeds = np.atleast_1d(np.asarray(seeds))
    J = -W.astype(float)
    sigma = math.sqrt(float((J ** 2).sum()) / max(n * (n - 1), 1)) or 1.0
    c0 = c * 0.5 / (math.sqrt(n) * sigma)
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    x = np.stack([r.uniform(-0.1, 0.1, n) for r in rngs])
    y = np.stack([r.uniform(-0.1, 0.1, n) for r in rngs])
    for k in range(steps):
        y += dt * (-(1 - k / steps) * x + c0 * (np.sign(x) @ J))
        x += dt * y
        wall = np.abs(x) > 1
        x[wall] = np.sign(x[wall])
        y[wall] = 0
    bits = (x < 0).astype(np.int64)
    return cut_value(W, bits), bits


def improving_flips(W: np.ndarray, bits) -> np.ndarray:
    """Per assignment (rows of spin bits), the single-spin flips that would raise its cut."""
    s = 1 - 2 * np.asarray(bits)
    return ((s * (s @ W)) > 0).sum(axis=-1)
