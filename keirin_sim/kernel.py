"""The compiled motion kernel: integrates every rider between SimPy events.

SimPy (race.py) owns the clock and all decisions; it calls :func:`advance` to move the continuous
state from ``t0`` towards ``t1``.  The kernel stops early at the first *state event* (a watched
quantity crossing zero: a rider or the derny reaching a mark, a gap opening, a rider passing
another, a rider's W' allowing an all-out effort to the line) and reports which one and when.

Integration: Heun's method (explicit trapezoid, 2nd order) on a fixed step, cut short exactly at
segment ends and refined by secant iterations at state events.  Everything a rider does between
events is a continuous control law (follow a wheel, ride an effort, drift towards a chosen
line); no decision is taken here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# state columns ---------------------------------------------------------------------------
SX, SV, SW, SLANE, SE_IN, SE_AERO, SE_ROLL = range(7)
NSTATE = 7
# rider parameter columns ---------------------------------------------------------------
(
    PR_MEFF,
    PR_MASS,
    PR_CDA,
    PR_CRR,
    PR_EC,
    PR_DEV,
    PR_PMAX,
    PR_COPT,
    PR_CP,
    PR_W0,
    PR_LANE0,
) = range(11)
NPARAM = 11
# control columns ------------------------------------------------------------------------
CT_MODE, CT_EFFORT, CT_VCAP, CT_GAPDES, CT_LANE_TGT, CT_TARGET, CT_VFREE = range(7)
NCTRL = 7
MODE_FOLLOW, MODE_EFFORT, MODE_DONE = 0, 1, 2
# global parameter slots -------------------------------------------------------------------
(
    GP_RHO,
    GP_FW,
    GP_G,
    GP_RACE,
    GP_LAP,
    GP_B0,
    GP_B1,
    GP_B2,
    GP_B3,
    GP_R,
    GP_DV0,
    GP_DV1,
    GP_DRAMP,
    GP_DLANE,
    GP_BRAKE,
    GP_KP,
    GP_TC,
    GP_FOLLOW,
    GP_BIKE,
    GP_DERNY_LEN,
    GP_INLINE,
    GP_LAT,
    GP_ATTACKER,
    GP_DT,
    GP_LT,
) = range(25)
NGLOBAL = 25
# derny state slots
D_X, D_ACTIVE = 0, 1
# watch kinds
(
    W_RIDER_MARK,
    W_DERNY_MARK,
    W_BREAK,
    W_PASS,
    W_SPRINT_READY,
    W_BLOCKED,
    W_PASSES,
) = range(7)
# outputs: per-rider stats columns
ST_VMAX, ST_PMAX = 0, 1
# catch record slots
CR_T, CR_X, CR_BY, CR_LED = 0, 1, 2, 3

#: LLVM may reorder floating-point arithmetic in the NaN-free physics (about 25 % faster).
#: Results stay bit-identical run to run on one machine; the step-convergence and energy tests
#: bound the difference to IEEE-strict arithmetic far below any reported digit.
FASTMATH = True
#: Behind the derny the whole field rides a smooth, slowly rising speed: a longer step there
#: costs no accuracy (checked by the step-convergence test) and saves most of the work.
DERNY_STEP_FACTOR = 4.0
#: A wheel's pull on a follower fades over this many metres at the edge of the follow range,
#: and a wheel that is off the line or only half in front limits the follower by up to this
#: much less (m/s).  Numerical smoothing, not physiology.
FOLLOW_FADE_M = 3.0
FOLLOW_SOFT_MS = 20.0
#: Follow law limits (m/s): calibration choices for smooth riding in a line.
GAP_BACK_MS = 1.0
GAP_CLOSE_MS = 4.0

_RIDER_GAP = np.array([0.0, 0.1, 0.5, 1.0, 5.0, 10.0, 20.0])
_RIDER_LEFT = np.array([0.64, 0.64, 0.65, 0.665, 0.80, 0.90, 1.0])
_DERNY_GAP = np.array([0.0, 2.64, 10.0, 30.0, 50.0, 80.0])
_DERNY_LEFT = np.array([0.52, 0.52, 0.77, 0.88, 0.93, 1.0])
_LINE2 = 0.58
_LINE3 = 0.52
_LEADER_LEFT = 0.98
_LEADER_GAP = 1.0


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _interp(x, xs, ys):
    n = xs.shape[0]
    if x <= xs[0]:
        return ys[0]
    if x >= xs[n - 1]:
        return ys[n - 1]
    for k in range(1, n):
        if x < xs[k]:
            f = (x - xs[k - 1]) / (xs[k] - xs[k - 1])
            return ys[k - 1] + f * (ys[k] - ys[k - 1])
    return ys[n - 1]


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _ramp(s, a, lt):
    """0 before ``a - lt/2``, 1 after ``a + lt/2``, linear between."""
    if lt <= 0.0:
        return 1.0 if s >= a else 0.0
    f = (s - a) / lt + 0.5
    return min(1.0, max(0.0, f))


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def curvature(x, gp):
    """Curvature (1/m) of the measurement line at distance ``x``: 1/R in the bends, with linear
    transitions of ``GP_LT`` metres centred on each end of the arc, so each bend still turns
    exactly pi radians and a lap at offset d is 2*pi*d longer."""
    lap = gp[GP_LAP]
    s = x - lap * np.floor(x / lap)
    lt = gp[GP_LT]
    b0 = gp[GP_B0]
    b1 = gp[GP_B1]
    b2 = gp[GP_B2]
    b3 = gp[GP_B3]
    k = _ramp(s, b0, lt) - _ramp(s, b1, lt) + _ramp(s, b2, lt) - _ramp(s, b3, lt)
    # ramps that straddle the lap's end (the finish line)
    k += _ramp(s, b0 + lap, lt) - _ramp(s, b1 + lap, lt)
    k += _ramp(s, b2 - lap, lt) - _ramp(s, b3 - lap, lt)
    return k / gp[GP_R]


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _in_line(offset, tol):
    """How far a wheel ``offset`` metres to the side counts as in line: fully within half the
    tolerance, not at all beyond it, linear between (drafting and following fade together)."""
    return min(1.0, max(0.0, 2.0 * (tol - abs(offset)) / tol))


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _gap_term(err, gp):
    """Speed a follower adds (or gives up) for a gap error: proportional, but a rider drifts
    back at most ``GAP_BACK_MS`` and closes at most ``GAP_CLOSE_MS`` faster than the wheel, so a
    gap opening in a line does not ripple down it as braking and surging."""
    return min(max(gp[GP_KP] * err, -GAP_BACK_MS), GAP_CLOSE_MS)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def derny_speed(xd, gp):
    f = 1.0
    if gp[GP_DRAMP] > 0.0:
        f = min(1.0, max(0.0, xd / gp[GP_DRAMP]))
    return gp[GP_DV0] + (gp[GP_DV1] - gp[GP_DV0]) * f


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def derny_progress(xd, gp):
    """Rate at which the derny's front wheel advances along the measurement line: it rides the
    riders' line, so in the bends its own speed covers less of the measurement line."""
    return derny_speed(xd, gp) / (1.0 + gp[GP_DLANE] * curvature(xd, gp))


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def envelope(v, pr):
    x = v * 60.0 / pr[PR_DEV] / pr[PR_COPT]
    return max(pr[PR_PMAX] * x * (2.0 - x), 0.0)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def available_power(v, w, pr):
    env = envelope(v, pr)
    cp = pr[PR_CP]
    return min(env, cp) + max(env - cp, 0.0) * max(w, 0.0) / pr[PR_W0]


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _avail(v, w, PR, i):
    x = v * 60.0 / PR[i, PR_DEV] / PR[i, PR_COPT]
    env = max(PR[i, PR_PMAX] * x * (2.0 - x), 0.0)
    cp = PR[i, PR_CP]
    return min(env, cp) + max(env - cp, 0.0) * max(w, 0.0) / PR[i, PR_W0]


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _links(S, C, gp, order, rank, ahead, gahead, shelter):
    """Sort riders by distance (insertion sort: the order barely changes between calls) and
    find, for each rider, the nearest rider ahead *in line* (index and wheel gap) and whether a
    follower sits close behind it in line (``shelter``)."""
    n = S.shape[0]
    for p in range(1, n):
        q = order[p]
        xq = S[q, SX]
        r = p - 1
        while r >= 0 and S[order[r], SX] > xq:
            order[r + 1] = order[r]
            r -= 1
        order[r + 1] = q
    tol = gp[GP_INLINE]
    bike = gp[GP_BIKE]
    for p in range(n):
        rank[order[p]] = p
    for i in range(n):
        ahead[i] = -1
        gahead[i] = 1e18
        shelter[i] = 0.0
    for p in range(n):
        i = order[p]
        if C[i, CT_MODE] == MODE_DONE:
            continue
        li = S[i, SLANE]
        for q in range(p + 1, n):
            j = order[q]
            if C[j, CT_MODE] == MODE_DONE:
                continue
            if abs(S[j, SLANE] - li) < tol:
                d = S[j, SX] - S[i, SX]
                if d > 0.0:
                    ahead[i] = j
                    gahead[i] = d - bike
                    # the leader's benefit fades out between 1 and 2 m of wheel gap and with
                    # the follower's offset to the side
                    f = min(1.0, max(0.0, _LEADER_GAP + 1.0 - (d - bike)))
                    f *= _in_line(S[j, SLANE] - li, tol)
                    if f > shelter[j]:
                        shelter[j] = f
                    break


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def deriv(S, D, PR, C, gp, dS, P, order, rank, ahead, gahead, shelter, relink=True):
    """Time derivatives of every rider's state and the power each rider rides at.

    ``relink=False`` keeps who-is-behind-whom from the previous call (the later stages of a
    step) and only refreshes the gaps."""
    n = S.shape[0]
    if relink:
        _links(S, C, gp, order, rank, ahead, gahead, shelter)
    else:
        for i in range(n):
            j = ahead[i]
            if j >= 0:
                gahead[i] = S[j, SX] - S[i, SX] - gp[GP_BIKE]
    derny_on = D[D_ACTIVE] > 0.5
    xd = D[D_X]
    vd = derny_speed(xd, gp)
    for i in range(n):
        for c in range(NSTATE):
            dS[i, c] = 0.0
        P[i] = 0.0
        if C[i, CT_MODE] == MODE_DONE:
            continue
        x = S[i, SX]
        v = max(S[i, SV], 0.5)
        w = S[i, SW]
        lane = S[i, SLANE]
        # drafting: the best shelter among the riders just ahead (each weighted by how far
        # it is off to the side, so shelter fades continuously as lines change)
        j = ahead[i]
        tol = gp[GP_INLINE]
        left = 1.0
        if j >= 0:
            p_i = rank[i]
            for q in range(p_i + 1, n):
                jj = order[q]
                if C[jj, CT_MODE] == MODE_DONE:
                    continue
                gg = S[jj, SX] - gp[GP_BIKE] - x
                if gg > _RIDER_GAP[-1]:
                    break
                if gg <= 0.0:
                    continue
                lat = _in_line(S[jj, SLANE] - lane, tol)
                if lat <= 0.0:
                    continue
                base = _interp(gg, _RIDER_GAP, _RIDER_LEFT)
                tgt = _LINE2
                if ahead[jj] >= 0:
                    # third and later in a line: fades in as the wheel ahead closes on its own
                    f = min(1.0, max(0.0, 2.5 - gahead[jj]))
                    tgt = _LINE2 + (_LINE3 - _LINE2) * f
                lj = 1.0 - (1.0 - base) * (1.0 - tgt) / (1.0 - _RIDER_LEFT[0]) * lat
                if lj < left:
                    left = lj
                if lat >= 1.0:
                    break  # riders further up this line are further away: less shelter
        g_d = 1e18
        if derny_on:
            g_d = xd - gp[GP_DERNY_LEN] - x
            if g_d > -gp[GP_DERNY_LEN] and abs(lane - gp[GP_DLANE]) < tol:
                lat = _in_line(lane - gp[GP_DLANE], tol)
                ld = 1.0 - (1.0 - _interp(max(g_d, 0.0), _DERNY_GAP, _DERNY_LEFT)) * lat
                if ld < left:
                    left = ld
        # a follower close behind in line shelters the leader a little
        left *= 1.0 - (1.0 - _LEADER_LEFT) * shelter[i]
        f_aero = 0.5 * gp[GP_RHO] * (PR[i, PR_CDA] * left + gp[GP_FW]) * v * v
        f_roll = PR[i, PR_CRR] * PR[i, PR_MASS] * gp[GP_G] + (91.0 + 8.7 * v) * 1e-3
        plim = _avail(v, w, PR, i)
        ec = PR[i, PR_EC]
        mode = C[i, CT_MODE]
        # speed the rider may not exceed: the derny's, until it leaves
        vmax = 1e9
        if derny_on:
            vmax = vd + _gap_term(g_d - C[i, CT_GAPDES], gp)
        if mode == MODE_EFFORT:
            p = C[i, CT_EFFORT] * plim
            if derny_on:
                pcap = (PR[i, PR_MEFF] * (vmax - v) / gp[GP_TC] + f_aero + f_roll) * v / ec
                p = min(p, max(pcap, -gp[GP_BRAKE]))
        else:
            # The follow law: with no wheel to follow a rider rides its free speed (behind the
            # derny, the derny sets the pace); a rider told to take a wheel closes on it from any
            # distance.  Every rider just ahead adds a speed limit (its speed plus the gap term)
            # that fades in as it comes fully in front, fades out as it moves off the line or out
            # of reach: the law stays continuous as lines form and break (a switch of wheel
            # would make results depend on the step).
            vt = 1e9
            wmax = 0.0
            tj = int(C[i, CT_TARGET])
            gapdes = C[i, CT_GAPDES]
            if tj >= 0 and C[tj, CT_MODE] != MODE_DONE:
                vt = S[tj, SV] + _gap_term(S[tj, SX] - gp[GP_BIKE] - x - gapdes, gp)
            bike = gp[GP_BIKE]
            reach = gp[GP_FOLLOW]
            for r in range(max(rank[i] - 1, 0), n):
                q = order[r]
                if q == i or C[q, CT_MODE] == MODE_DONE:
                    continue
                d = S[q, SX] - x
                if d > reach + bike + FOLLOW_FADE_M:
                    break
                if d <= 0.0:
                    continue
                wq = _in_line(S[q, SLANE] - lane, tol)
                if wq <= 0.0:
                    continue
                g = d - bike
                wq *= min(1.0, d / 0.5) * min(
                    1.0, max(0.0, (reach + FOLLOW_FADE_M - g) / FOLLOW_FADE_M)
                )
                if wq <= 0.0:
                    continue
                c = S[q, SV] + _gap_term(g - gapdes, gp) + FOLLOW_SOFT_MS * (1.0 - wq)
                if c < vt:
                    vt = c
                if wq > wmax:
                    wmax = wq
            # the free speed binds only as far as no wheel is there to follow
            if not derny_on and tj < 0:
                vt = min(vt, C[i, CT_VFREE] + FOLLOW_SOFT_MS * wmax)
            vt = min(vt, C[i, CT_VCAP], vmax)
            p = (PR[i, PR_MEFF] * (vt - v) / gp[GP_TC] + f_aero + f_roll) * v / ec
            p = min(max(p, -gp[GP_BRAKE]), plim)
        P[i] = p
        # geometry: above the measurement line a bend is longer
        geo = 1.0
        if lane != 0.0:
            geo = 1.0 / (1.0 + lane * curvature(x, gp))
        dS[i, SX] = v * geo
        dS[i, SV] = (p * ec / v - f_aero - f_roll) / PR[i, PR_MEFF]
        cp = PR[i, PR_CP]
        if p > cp:
            dS[i, SW] = -(p - cp)
        else:
            dS[i, SW] = (cp - p) * (PR[i, PR_W0] - w) / PR[i, PR_W0]
        dl = (C[i, CT_LANE_TGT] - lane) / 0.25
        dS[i, SLANE] = min(max(dl, -gp[GP_LAT]), gp[GP_LAT])
        dS[i, SE_IN] = p * ec
        dS[i, SE_AERO] = f_aero * v
        dS[i, SE_ROLL] = f_roll * v


@njit(cache=True, error_model="numpy")
def watch_value(kind, a, b, val, S, D, PR, C, gp):
    """The watched quantity; the event fires when it crosses zero from below."""
    n = S.shape[0]
    if kind == W_RIDER_MARK:
        return S[a, SX] - val
    if kind == W_DERNY_MARK:
        return D[D_X] - val
    if kind == W_BREAK:
        if D[D_ACTIVE] > 0.5:
            return -1.0
        # the leader, on an effort (an attack, not a rider merely left at the front), is clear
        m1 = -1e18
        m2 = -1e18
        i1 = -1
        for i in range(n):
            if C[i, CT_MODE] == MODE_DONE:
                continue
            x = S[i, SX]
            if x > m1:
                m2 = m1
                m1 = x
                i1 = i
            elif x > m2:
                m2 = x
        if i1 < 0 or C[i1, CT_MODE] != MODE_EFFORT:
            return -1.0
        return (m1 - m2) - val
    if kind == W_PASS:
        return S[a, SX] - S[b, SX] - val
    if kind == W_SPRINT_READY:
        pr = PR[a]
        v = S[a, SV]
        spare = envelope(v, pr) - pr[PR_CP]
        if spare <= 1.0:
            return -1.0
        tau = S[a, SW] / spare
        return v * tau * val - (gp[GP_RACE] - S[a, SX])
    if kind == W_PASSES:
        # rider a comes past any rider of the bit mask b (by val metres)
        best = -1e18
        for j in range(n):
            if (b >> j) & 1 and C[j, CT_MODE] != MODE_DONE:
                d = S[a, SX] - S[j, SX] - val
                if d > best:
                    best = d
        return best if best > -1e17 else -1.0
    if kind == W_BLOCKED:
        # rider a is within val metres of a slower wheel in its line
        tol = gp[GP_INLINE]
        best = 1e18
        jb = -1
        for j in range(n):
            if j == a or C[j, CT_MODE] == MODE_DONE:
                continue
            d = S[j, SX] - S[a, SX]
            if d > 0.0 and abs(S[j, SLANE] - S[a, SLANE]) < tol and d < best:
                best = d
                jb = j
        if jb < 0:
            return -1.0
        # inside val metres of the wheel and closing on it (continuous in the state)
        return min(val - (best - gp[GP_BIKE]), S[a, SV] - S[jb, SV])
    return -1.0


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _step(S, D, PR, C, gp, h, S1, k1, k2, P1, P2, order, rank, ahead, gahead, shelter):
    """One step of the three-stage, third-order strong-stability-preserving Runge-Kutta method
    (Shu & Osher 1988).  The derny's position is integrated alongside.  ``P1`` receives the
    power at the start of the step."""
    n = S.shape[0]
    derny_on = D[D_ACTIVE] > 0.5
    xd0 = D[D_X]
    # stage 1
    deriv(S, D, PR, C, gp, k1, P1, order, rank, ahead, gahead, shelter)
    vd = derny_progress(xd0, gp)
    for i in range(n):
        for c in range(NSTATE):
            S1[i, c] = S[i, c] + h * k1[i, c]
    xd1 = xd0 + h * vd
    # stage 2
    D[D_X] = xd1
    deriv(S1, D, PR, C, gp, k2, P2, order, rank, ahead, gahead, shelter, False)
    vd = derny_progress(xd1, gp)
    for i in range(n):
        for c in range(NSTATE):
            S1[i, c] = 0.75 * S[i, c] + 0.25 * (S1[i, c] + h * k2[i, c])
    xd2 = 0.75 * xd0 + 0.25 * (xd1 + h * vd)
    # stage 3
    D[D_X] = xd2
    deriv(S1, D, PR, C, gp, k2, P2, order, rank, ahead, gahead, shelter, False)
    vd = derny_progress(xd2, gp)
    for i in range(n):
        for c in range(NSTATE):
            S[i, c] = S[i, c] / 3.0 + 2.0 / 3.0 * (S1[i, c] + h * k2[i, c])
    if derny_on:
        D[D_X] = xd0 / 3.0 + 2.0 / 3.0 * (xd2 + h * vd)
    else:
        D[D_X] = xd0


@njit(cache=True, error_model="numpy")
def advance(S, D, PR, C, gp, t0, t1, WK, WV, marks, lapt, lapx, stats, catch, tr_t, tr, tr_n):
    """Integrate from ``t0`` to at most ``t1``; return (t, index of the fired watch or -1).

    Records as it goes (no decisions): each rider's crossing time of each mark in ``marks``
    (``lapt``), every rider's position when the first rider crosses a mark (``lapx``), top speed
    and peak power (``stats``), the first catch of the attacker (``catch``) and, when ``tr`` has
    room, a trace row per step (``tr_t``, ``tr``; ``tr_n[0]`` counts rows).
    """
    n = S.shape[0]
    nw = WK.shape[0]
    nm = marks.shape[0]
    dt = gp[GP_DT]
    S0 = np.empty_like(S)
    S1 = np.empty_like(S)
    k1 = np.empty_like(S)
    k2 = np.empty_like(S)
    P1 = np.empty(n)
    P2 = np.empty(n)
    gprev = np.empty(nw)
    gnew = np.empty(nw)
    glo = np.empty(nw)
    ghi = np.empty(nw)
    SE = np.empty_like(S)
    F1 = np.empty_like(S)
    PF = np.empty(n)
    DT = np.empty(2)
    order = np.arange(n)
    rank = np.arange(n)
    ahead = np.empty(n, dtype=np.int64)
    gahead = np.empty(n)
    shelter = np.empty(n)
    act = np.empty(nw, dtype=np.int64)
    na = 0
    for k in range(nw):
        gprev[k] = -1.0
        if WK[k, 3] == 1:
            act[na] = k
            na += 1
            gprev[k] = watch_value(WK[k, 0], WK[k, 1], WK[k, 2], WV[k], S, D, PR, C, gp)
            if gprev[k] >= 0.0:
                return t0, k
    # next mark each rider (and the field's leader) has still to cross
    nxt = np.empty(n, dtype=np.int64)
    for i in range(n):
        nxt[i] = nm
        for m in range(nm):
            if np.isnan(lapt[i, m]):
                nxt[i] = m
                break
    nxl = nm
    for m in range(nm):
        if np.isnan(lapx[m, 0]):
            nxl = m
            break
    att = int(gp[GP_ATTACKER])
    t = t0
    while t < t1 - 1e-12:
        h = dt
        if D[D_ACTIVE] > 0.5:
            h = dt * DERNY_STEP_FACTOR
        h = min(h, t1 - t)
        S0[:, :] = S
        d0x = D[D_X]
        derny_was_on = D[D_ACTIVE] > 0.5
        _step(S, D, PR, C, gp, h, S1, k1, k2, P1, P2, order, rank, ahead, gahead, shelter)
        # earliest state event in this step
        kf = -1
        th = 2.0
        for a in range(na):
            k = act[a]
            g = watch_value(WK[k, 0], WK[k, 1], WK[k, 2], WV[k], S, D, PR, C, gp)
            gnew[k] = g
            if g >= 0.0 and gprev[k] < 0.0:
                f = gprev[k] / (gprev[k] - g)
                if f < th:
                    th = f
                    kf = k
        if kf >= 0:
            # Locate the first crossing of any watch inside the step on the step's dense output
            # (cubic Hermite through the start and end states and slopes: no re-integration),
            # then integrate once, exactly to that time.  Bracket [lo, hi] (fractions of the
            # step): no watch has crossed at lo, one has at hi; secant steps on the earliest
            # crossing watch, bisection when a secant step stalls or the watched quantity jumps.
            SE[:, :] = S
            xde = D[D_X]
            deriv(SE, D, PR, C, gp, F1, PF, order, rank, ahead, gahead, shelter)
            vd0 = derny_progress(d0x, gp)
            vde = derny_progress(xde, gp)
            for a in range(na):
                glo[act[a]] = gprev[act[a]]
                ghi[act[a]] = gnew[act[a]]
            lo = 0.0
            hi = 1.0
            th = min(max(th, 1e-6), 1.0 - 1e-6)
            for _it in range(40):
                h00 = (1.0 + 2.0 * th) * (1.0 - th) * (1.0 - th)
                h10 = th * (1.0 - th) * (1.0 - th) * h
                h01 = th * th * (3.0 - 2.0 * th)
                h11 = th * th * (th - 1.0) * h
                for i in range(n):
                    for c in range(NSTATE):
                        S1[i, c] = h00 * S0[i, c] + h10 * k1[i, c] + h01 * SE[i, c] + h11 * F1[i, c]
                DT[D_X] = h00 * d0x + h10 * vd0 + h01 * xde + h11 * vde
                DT[D_ACTIVE] = D[D_ACTIVE]
                crossed = False
                for a in range(na):
                    k = act[a]
                    g = watch_value(WK[k, 0], WK[k, 1], WK[k, 2], WV[k], S1, DT, PR, C, gp)
                    gnew[k] = g
                    if g >= 0.0 and gprev[k] < 0.0:
                        crossed = True
                if crossed:
                    hi = th
                    for a in range(na):
                        ghi[act[a]] = gnew[act[a]]
                else:
                    lo = th
                    for a in range(na):
                        glo[act[a]] = gnew[act[a]]
                if (hi - lo) * h < 1e-5:
                    break
                # earliest crossing estimate within the bracket, from the watches crossed at hi
                est = 2.0
                for a in range(na):
                    k = act[a]
                    if ghi[k] >= 0.0 and gprev[k] < 0.0 and glo[k] < 0.0:
                        f = lo + (hi - lo) * (-glo[k]) / (ghi[k] - glo[k])
                        if f < est:
                            est = f
                mid = 0.5 * (lo + hi)
                span = hi - lo
                if est > lo + 0.02 * span and est < hi - 0.02 * span:
                    th = est
                elif crossed and est <= lo + 0.02 * span:
                    th = lo + 0.02 * span
                elif not crossed and est >= hi - 0.02 * span:
                    th = hi - 0.02 * span
                else:
                    th = mid
                if crossed and abs(th - hi) * h < 1e-9:
                    break
            # the watch that crossed first (on the dense output), then the real step to there
            kf = -1
            est = 2.0
            for a in range(na):
                k = act[a]
                if ghi[k] >= 0.0 and gprev[k] < 0.0:
                    f = -glo[k] / (ghi[k] - glo[k]) if ghi[k] > glo[k] else 0.0
                    if kf < 0 or f < est:
                        est = f
                        kf = k
            if kf < 0:  # pragma: no cover - the bracket guarantees a crossing at hi
                kf = act[0]
            S[:, :] = S0
            D[D_X] = d0x
            _step(S, D, PR, C, gp, hi * h, S1, k1, k2, P1, P2, order, rank, ahead, gahead, shelter)
            h = hi * h
        else:
            for a in range(na):
                gprev[act[a]] = gnew[act[a]]
        tn = t + h
        # records (interpolated linearly inside the step)
        xmax0 = -1e18
        xmax1 = -1e18
        for i in range(n):
            if C[i, CT_MODE] == MODE_DONE:
                continue
            if S0[i, SX] > xmax0:
                xmax0 = S0[i, SX]
            if S[i, SX] > xmax1:
                xmax1 = S[i, SX]
            if S[i, SV] > stats[i, ST_VMAX]:
                stats[i, ST_VMAX] = S[i, SV]
            if P1[i] > stats[i, ST_PMAX]:
                stats[i, ST_PMAX] = P1[i]
            while nxt[i] < nm and marks[nxt[i]] <= S[i, SX]:
                m = nxt[i]
                f = (marks[m] - S0[i, SX]) / (S[i, SX] - S0[i, SX])
                lapt[i, m] = t + f * h
                nxt[i] = m + 1
        while nxl < nm and marks[nxl] <= xmax1:
            f = (marks[nxl] - xmax0) / (xmax1 - xmax0)
            for i in range(n):
                lapx[nxl, i] = S0[i, SX] + f * (S[i, SX] - S0[i, SX])
            nxl += 1
        if att >= 0 and np.isnan(catch[CR_T]) and D[D_ACTIVE] < 0.5:
            xa = S[att, SX]
            best = -1e18
            jb = -1
            for j in range(n):
                if j != att and S[j, SX] > best:
                    best = S[j, SX]
                    jb = j
            if catch[CR_LED] < 0.5:
                if xa - best > 1.0:
                    catch[CR_LED] = 1.0
            elif best >= xa and C[att, CT_MODE] != MODE_DONE:
                d0 = S0[att, SX] - S0[jb, SX]
                d1 = xa - best
                f = 1.0
                if d0 > 0.0:
                    f = d0 / (d0 - d1)
                catch[CR_T] = t + f * h
                catch[CR_X] = S0[att, SX] + f * (xa - S0[att, SX])
                catch[CR_BY] = jb
        if tr_n[0] < tr_t.shape[0]:
            r = tr_n[0]
            tr_t[r] = t
            for i in range(n):
                tr[r, i, 0] = S0[i, SX]
                tr[r, i, 1] = S0[i, SV]
                tr[r, i, 2] = P1[i]
                tr[r, i, 3] = S0[i, SW]
                tr[r, i, 4] = S0[i, SLANE]
                tr[r, i, 5] = d0x if derny_was_on else np.nan
            tr_n[0] = r + 1
        t = tn
        if kf >= 0:
            return t, kf
    return max(t, t1), -1


def trace_row_fields() -> tuple[str, ...]:
    """Names of the per-rider trace columns, in order."""
    return ("x_m", "v_ms", "power_w", "w_bal_j", "lane_m", "derny_x_m")


__all__ = ["advance", "deriv", "available_power", "envelope"]
