"""The compiled motion kernel: integrates every rider between SimPy events.

SimPy (race.py) owns the clock and all decisions; it calls :func:`advance` to move the continuous
state from ``t0`` towards ``t1``.  The kernel stops early at the first *state event* (a watched
quantity crossing zero: a rider or the derny reaching a mark, a gap opening, a rider passing
another, a rider's W' allowing an all-out effort to the line) and reports which one and when.

Integration: the Bogacki-Shampine 3(2) pair with an adaptive step (error control on position,
speed, W' and lane), cut short exactly at segment ends and at state events, which are located
by secant iterations on the step's cubic Hermite dense output.  Everything a rider does between
events is a continuous control law (follow a wheel, ride an effort, drift towards a chosen
line); no decision is taken here.  The switches the kernel makes itself, at their own located
state events, are reflexes (``reflex``): a rider on an effort swings out when blocked and
drops back in when clear; a rider still following takes the wheel of a rider on an effort
coming past; a rider crossing the line is done.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from keirin_sim.engine.jitcache import cache_setting


def _probe() -> int:  # pragma: no cover - compiled only to find where numba may cache
    return 0


#: ``cache=`` of every compiled function: False when nowhere writable is found (jitcache)
CACHE = cache_setting(_probe, "keirin_sim/engine/kernel.py")

# state columns ---------------------------------------------------------------------------
SX, SV, SW, SLANE, SE_IN, SE_AERO, SE_ROLL = range(7)
NSTATE = 7
#: the state the derivatives depend on (the energy columns after them are only integrated)
NDYN = 4
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
CT_MODE, CT_EFFORT, CT_VCAP, CT_GAPDES, CT_LANE_TGT, CT_TARGET, CT_VFREE, CT_PACE = range(8)
NCTRL = 8
MODE_FOLLOW, MODE_EFFORT, MODE_DONE = 0, 1, 2
# reciprocal columns (see :func:`reciprocals`)
RC_CAD, RC_IW0, RC_IM, RC_IEC = range(4)
NRECIP = 4
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
    GP_BLOCK,
    GP_HCOM,
    GP_WAKE,
    GP_SWING,
    GP_BANK_S,
    GP_BANK_B,
) = range(31)
NGLOBAL = 31
# integrator record (``hs`` of :func:`advance`): proposed step, counters, entries of the
# reflex log
HS_H, HS_STEPS, HS_REJECTED, HS_LOCATED, HS_CALLS, HS_RLOG = range(6)
NHS = 6
# watch table columns (``WK`` of :func:`advance`)
WK_KIND, WK_A, WK_B, WK_ACTIVE, WK_REFLEX = range(5)
NWK = 5
# reflexes the kernel carries out itself (``WK_REFLEX``), also the codes of the reflex log
RX_NONE, RX_STEER, RX_FINISH, RX_JUMP = range(4)
#: a log code only: the steering reflex found the rider boxed (a rival alongside outside)
RX_BOXED = 4
# reflex log columns (``rlog`` of :func:`advance`)
RL_T, RL_CODE, RL_A, RL_B, RL_VALUE = range(5)
NRL = 5
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
#: The attacker has attacked (and can be caught) once it is this far clear of everyone while on
#: an effort: the tactics' default "gone clear" gap (model/tactic.py, ``gap_trigger_m``).
ATTACK_CLEAR_M = 5.0

#: LLVM may reorder floating-point arithmetic in the NaN-free physics (about 25 % faster).
#: Results stay bit-identical run to run on one machine; the step-convergence and energy tests
#: bound the difference to IEEE-strict arithmetic far below any reported digit.
FASTMATH = True
#: Adaptive step.  The error of the embedded solution is held under ``_ATOL`` per step
#: (position m, speed m/s, W' J, lane m) at the reference step ``DT_REF``; the scenario's
#: ``dt_s`` scales the tolerances with its cube (a third-order method: halving ``dt_s`` is
#: halving the step) and caps the step at ``HMAX_FACTOR * dt_s``.  Numerical choices, checked
#: by the step-convergence tests.
DT_REF = 0.1
HMAX_FACTOR = 10.0
HMIN = 1e-4
_ATOL = np.array([4.8e-3, 4.8e-4, 4.0, 3.2e-3])
#: A follower's speed error is corrected by its follow law within ``GP_TC``, a free rider's is
#: not: the speed tolerance of a rider in follow mode is this many times looser.
FOLLOW_VTOL = 10.0
#: Likewise its position error: the gap term of the follow law pulls it back to its wheel.
FOLLOW_XTOL = 10.0
#: A follower riding above this share of its power limit is held to a free rider's tolerances.
FOLLOW_CAPPED = 0.9
#: No rider closes on its neighbour (within ``CLOSE_RANGE_M``) by more than
#: ``CLOSE_PER_STEP_M`` in one step, so passes and blocked wheels stay resolved.
CLOSE_RANGE_M = 25.0
CLOSE_PER_STEP_M = 1.0
# The functions the step calls thousands of times per race take only arrays they do not keep:
# compiled without numba's reference counting (``_nrt=False``) a call costs no atomic increment
# and decrement of every array argument (they were about a fifth of the kernel's time).
#: A wheel's pull on a follower fades over this many metres at the edge of the follow range,
#: and a wheel that is off the line or only half in front limits the follower by up to this
#: much less (m/s).  Numerical smoothing, not physiology.
FOLLOW_FADE_M = 3.0
FOLLOW_SOFT_MS = 20.0
#: A follower takes its pace from the riders just ahead up to and including the first wheel
#: fully in line and in reach (riders further up that line are that wheel's business).
FOLLOW_WHEELS = 1
#: Follow law limits (m/s): calibration choices for smooth riding in a line.
GAP_BACK_MS = 1.0
GAP_CLOSE_MS = 4.0

#: Out of the saddle at low cadence (model/rider.py explains and sources them; the same values
#: as there, which a test checks): the force gain at
#: zero cadence (Bouillod et al. 2017) and the reciprocal of the relative cadence where the
#: rider is seated again.
STAND_GAIN = 0.224
STAND_IX = 1.0
#: The fast and slow components of the fade (rider.py): the share of the peak's excess over CP
#: that fades at the rider's rate k, and the slow component's rate as a share of k.
FADE_FAST = 0.7
FADE_SLOW = 0.2
#: Below this capacity above CP (W) the share of it used is taken against this much instead,
#: so the drain fades out continuously where the fatigued limit meets CP.  Numerical choice.
FADE_SOFT_W = 50.0

_DERNY_GAP = np.array([0.0, 2.64, 10.0, 30.0, 50.0, 80.0])
_DERNY_LEFT = np.array([0.52, 0.52, 0.77, 0.88, 0.93, 1.0])
# The shelter law (aero.py documents it and fits it): behind a rider at wheel gap g the drag
# left is 1 - DRAFT_A exp(-(g / DRAFT_L)^DRAFT_P) (the two-rider table), scaled to the line's
# measured 58 % / 52 % at the wheel; across the wake a biweight of half-width
# GP_WAKE (1 + WAKE_SPREAD g).  The leader keeps 1 - LEAD_A exp(-g / LEAD_L) of its drag.
_DRAFT_A = 0.36
_DRAFT_L = 7.52
_DRAFT_P = 1.305
_DRAFT_MAX_M = 25.0
_WAKE_SPREAD = 0.1
_LINE2 = 0.58
_LINE3 = 0.52
_LEAD_A = 0.024
_LEAD_L = 0.8
_LEAD_MAX_M = 5.0


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
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


@njit(cache=CACHE, error_model="numpy", fastmath=FASTMATH)
def _ramp(s, a, lt):
    """0 before ``a - lt/2``, 1 after ``a + lt/2``, linear between."""
    if lt <= 0.0:
        return 1.0 if s >= a else 0.0
    f = (s - a) / lt + 0.5
    return min(1.0, max(0.0, f))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
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
    # away from the transitions the answer is plain (and what the sum below gives there)
    ht = 0.5 * lt
    if (b0 + ht <= s <= b1 - ht) or (b2 + ht <= s <= b3 - ht):
        return 1.0 / gp[GP_R]
    if (b1 + ht <= s <= b2 - ht) or (
        b0 - ht >= 0.0 and b3 + ht <= lap and (s <= b0 - ht or s >= b3 + ht)
    ):
        return 0.0
    k = _ramp(s, b0, lt) - _ramp(s, b1, lt) + _ramp(s, b2, lt) - _ramp(s, b3, lt)
    # ramps that straddle the lap's end (the finish line)
    k += _ramp(s, b0 + lap, lt) - _ramp(s, b1 + lap, lt)
    k += _ramp(s, b2 - lap, lt) - _ramp(s, b3 - lap, lt)
    return k / gp[GP_R]


@njit(cache=CACHE, error_model="numpy", fastmath=FASTMATH)
def _in_line(offset, tol):
    """How far a wheel ``offset`` metres to the side counts as in line: fully within half the
    tolerance, not at all beyond it, linear between (drafting and following fade together)."""
    return min(1.0, max(0.0, 2.0 * (tol - abs(offset)) / tol))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def wake(offset, gap, w0):
    """Share of the in-line shelter left ``offset`` metres to the side of a wheel ``gap``
    metres ahead: a biweight (1 - u^2)^2, u = |offset| / half-width, the half-width ``w0`` at
    the wheel widening by ``_WAKE_SPREAD`` per metre behind it.  Modelling choice (no published
    curve; aero.py)."""
    h = w0 * (1.0 + _WAKE_SPREAD * max(gap, 0.0))
    u = abs(offset) / h
    if u >= 1.0:
        return 0.0
    u = 1.0 - u * u
    return u * u


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def draft_left(gap):
    """Drag left (share of solo) right behind one rider at wheel ``gap`` (m), in line: the
    smooth fit of the two-rider table (aero.py)."""
    if gap >= _DRAFT_MAX_M:
        return 1.0
    g = max(gap, 0.0) / _DRAFT_L
    return 1.0 - _DRAFT_A * np.exp(-(g**_DRAFT_P))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def bank_sin(x, gp):
    """Sine of the banking at distance ``x``: the straights' angle, the bends' angle where the
    curvature is full, a smoothstep of the curvature between (banking.py)."""
    f = curvature(x, gp) * gp[GP_R]
    return np.sin(gp[GP_BANK_S] + (gp[GP_BANK_B] - gp[GP_BANK_S]) * f * f * (3.0 - 2.0 * f))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def _climb_rate(x, up, dlane, vx, gp):
    """Rate of climb (m/s) of a rider ``up`` metres above the riders' line across the banking,
    changing line at ``dlane`` m/s and advancing ``vx`` m/s along the measurement line: h =
    up sin(bank(x)), so dh/dt = sin(bank) dlane + up cos(bank) bank'(x) vx (the curvature
    ramp's slope by a central difference; the bank is a smoothstep of the curvature, so its
    slope, and the power, are continuous and the integrator steps across the transitions)."""
    b0 = gp[GP_BANK_S]
    db = gp[GP_BANK_B] - b0
    r = gp[GP_R]
    f = curvature(x, gp) * r
    a = b0 + db * f * f * (3.0 - 2.0 * f)
    rate = np.sin(a) * dlane
    if up != 0.0 and db != 0.0 and 0.0 < f < 1.0:
        e = 0.05
        df = (curvature(x + e, gp) - curvature(x - e, gp)) * (r / (2.0 * e))
        rate += up * np.cos(a) * db * 6.0 * f * (1.0 - f) * df * vx
    return rate


@njit(cache=CACHE, error_model="numpy")
def final_straight(x, gp):
    """Whether distance ``x`` is in the final straight: out of the last bend (and its
    transition), less than half a lap from the line."""
    return gp[GP_RACE] - x < 0.5 * gp[GP_LAP] and curvature(x, gp) == 0.0


@njit(cache=CACHE, error_model="numpy", fastmath=FASTMATH)
def _gap_term(err, kp):
    """Speed a follower adds (or gives up) for a gap error: proportional, but a rider drifts
    back at most ``GAP_BACK_MS`` and closes at most ``GAP_CLOSE_MS`` faster than the wheel, so a
    gap opening in a line does not ripple down it as braking and surging."""
    return min(max(kp * err, -GAP_BACK_MS), GAP_CLOSE_MS)


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def derny_speed(xd, gp):
    f = 1.0
    if gp[GP_DRAMP] > 0.0:
        f = min(1.0, max(0.0, xd / gp[GP_DRAMP]))
    return gp[GP_DV0] + (gp[GP_DV1] - gp[GP_DV0]) * f


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def derny_progress(xd, gp):
    """Rate at which the derny's front wheel advances along the measurement line: it rides the
    riders' line, so in the bends its own speed covers less of the measurement line."""
    return derny_speed(xd, gp) / (1.0 + gp[GP_DLANE] * curvature(xd, gp))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def _standing(x):
    """Force gain out of the saddle at relative cadence ``x`` (rider.py, ``STAND_GAIN``)."""
    return 1.0 + STAND_GAIN * max(0.0, 1.0 - x * STAND_IX)


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def envelope(v, pr):
    x = v * 60.0 / pr[PR_DEV] / pr[PR_COPT]
    return max(pr[PR_PMAX] * x * (2.0 - x), 0.0) * _standing(x)


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def _fatigued(x, w, pmax, cp, iw0):
    """Maximal power at relative cadence ``x`` (cadence over the fresh optimum) with the
    reserve ``w`` left (rider.py explains the law): the force-cadence line shifted down in
    parallel so that the peak is CP + (Pmax - CP)(f r + (1 - f) r^s), r = w / W', never below
    what the fresh envelope allows up to CP."""
    st = _standing(x)
    env = max(pmax * x * (2.0 - x), 0.0) * st
    r = w * iw0
    if r >= 1.0:
        return env  # fresh (most riders for most of a race): no power to take
    r = max(r, 0.0)
    a = cp / pmax
    phi = np.sqrt(a + (1.0 - a) * (FADE_FAST * r + (1.0 - FADE_FAST) * r**FADE_SLOW))
    return max(pmax * x * (2.0 * phi - x) * st, min(env, cp))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def available_power(v, w, pr):
    x = v * 60.0 / pr[PR_DEV] / pr[PR_COPT]
    return _fatigued(x, w, pr[PR_PMAX], pr[PR_CP], 1.0 / pr[PR_W0])


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def _avail(v, w, PR, RC, i):
    return _fatigued(v * RC[i, RC_CAD], w, PR[i, PR_PMAX], PR[i, PR_CP], RC[i, RC_IW0])


@njit(cache=CACHE, _nrt=False, error_model="numpy", fastmath=FASTMATH)
def reciprocals(PR, RC):
    """Per-rider constants the derivatives divide by, inverted once per call of
    :func:`advance` instead of at every evaluation."""
    for i in range(PR.shape[0]):
        RC[i, RC_CAD] = 60.0 / (PR[i, PR_DEV] * PR[i, PR_COPT])
        RC[i, RC_IW0] = 1.0 / PR[i, PR_W0]
        RC[i, RC_IM] = 1.0 / PR[i, PR_MEFF]
        RC[i, RC_IEC] = 1.0 / PR[i, PR_EC]


@njit(cache=CACHE, _nrt=False, error_model="numpy", fastmath=FASTMATH)
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
                    # the leader's benefit: the share of its drag the follower takes away,
                    # fading with the wheel gap and the follower's offset to the side
                    g = d - bike
                    if g < _LEAD_MAX_M:
                        f = _LEAD_A * np.exp(-max(g, 0.0) / _LEAD_L)
                        f *= wake(S[j, SLANE] - li, g, gp[GP_WAKE])
                        if f > shelter[j]:
                            shelter[j] = f
                    break


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def _lean_radius(rw, v, grav, hcom):
    """Radius of the centre of mass of a rider leaning into a bend whose wheels ride radius
    ``rw`` at centre-of-mass speed ``v``: tan(lean) = v^2 / (g R_com), R_com = rw - h sin(lean)
    (a fixed point: h/R is small, two iterations leave millimetres)."""
    rc = rw
    for _it in range(2):
        tl = v * v / (grav * rc)
        rc = rw - hcom * tl / np.sqrt(1.0 + tl * tl)
    return rc


@njit(cache=CACHE, _nrt=False, error_model="numpy", fastmath=FASTMATH)
def deriv(S, D, PR, RC, C, gp, dS, P, order, rank, ahead, gahead, shelter, PF, relink=True):
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
    vdp = derny_progress(xd, gp)  # once, not per rider
    # constants read once (the stores into dS and P below may alias gp for all LLVM knows)
    tol = gp[GP_INLINE]
    bike = gp[GP_BIKE]
    reach = gp[GP_FOLLOW]
    rho = gp[GP_RHO]
    fw = gp[GP_FW]
    grav = gp[GP_G]
    brake = gp[GP_BRAKE]
    itc = 1.0 / gp[GP_TC]
    dlane = gp[GP_DLANE]
    dlen = gp[GP_DERNY_LEN]
    latv = gp[GP_LAT]
    kp = gp[GP_KP]
    hcom = gp[GP_HCOM]
    # the bends: the rider leans (tan(lean) = v^2 / (g R_com)), so the centre of mass rides a
    # radius shorter by h sin(lean) than the wheels (Fitton & Symons 2018): the wheels (and the
    # cadence) turn faster than the centre of mass moves, and the tyres carry the centripetal
    # load as well as the weight (rolling resistance grows with it).  PF holds, per rider, the
    # measurement line covered per metre of centre-of-mass travel, the wheel speed per unit of
    # centre-of-mass speed and the tyre load per unit of weight (for the follow law, which
    # matches a wheel's progress, not its centre-of-mass speed); the loop below adds the power
    # limit
    for i in range(n):
        PF[i, 0] = 1.0
        PF[i, 1] = 1.0
        PF[i, 2] = 1.0
        if C[i, CT_MODE] == MODE_DONE:
            continue
        kx = curvature(S[i, SX], gp)
        if kx > 0.0:
            vi = max(S[i, SV], 0.5)
            rw = 1.0 / kx + S[i, SLANE]
            rc = _lean_radius(rw, vi, grav, hcom)
            tl = vi * vi / (grav * rc)
            PF[i, 0] = 1.0 / (kx * rc)
            PF[i, 1] = rw / rc
            PF[i, 2] = np.sqrt(1.0 + tl * tl)
    for i in range(n):
        if C[i, CT_MODE] == MODE_DONE:
            for c in range(NSTATE):
                dS[i, c] = 0.0
            P[i] = 0.0
            continue
        x = S[i, SX]
        # v is the speed of the centre of mass (what drag and kinetic energy see); from rest
        # the forces are taken at 0.5 m/s, where the power-cadence law is still linear
        v = max(S[i, SV], 0.5)
        w = S[i, SW]
        lane = S[i, SLANE]
        pf = PF[i, 0]
        ipf = 1.0 / pf
        vw = v * PF[i, 1]
        load = PF[i, 2]
        # drafting: the best shelter among the riders just ahead (each weighted by the wake
        # across its line, so shelter fades continuously as lines change)
        left = 1.0
        w0 = gp[GP_WAKE]
        for q in range(rank[i] + 1, n):
            jj = order[q]
            if C[jj, CT_MODE] == MODE_DONE:
                continue
            gg = S[jj, SX] - bike - x
            if gg >= _DRAFT_MAX_M:
                break
            if gg <= 0.0:
                continue
            lat = wake(S[jj, SLANE] - lane, gg, w0)
            if lat <= 0.0:
                continue
            base = draft_left(gg)
            tgt = _LINE2
            if ahead[jj] >= 0:
                # third and later in a line: fades in as the wheel ahead closes on its own
                f = min(1.0, max(0.0, 2.5 - gahead[jj]))
                tgt = _LINE2 + (_LINE3 - _LINE2) * f
            lj = 1.0 - (1.0 - base) * (1.0 - tgt) / _DRAFT_A * lat
            if lj < left:
                left = lj
            if lat >= 0.999:
                break  # riders further up this line are further away: less shelter
        g_d = 1e18
        if derny_on:
            g_d = xd - dlen - x
            if g_d > -dlen and abs(lane - dlane) < tol:
                lat = _in_line(lane - dlane, tol)
                ld = 1.0 - (1.0 - _interp(max(g_d, 0.0), _DERNY_GAP, _DERNY_LEFT)) * lat
                if ld < left:
                    left = ld
        # a follower close behind in line shelters the leader a little
        left *= 1.0 - shelter[i]
        f_aero = 0.5 * rho * (PR[i, PR_CDA] * left + fw) * v * v
        # rolling and bearing losses act at the wheels' speed
        f_roll = PR[i, PR_CRR] * PR[i, PR_MASS] * grav * load + (91.0 + 8.7 * vw) * 1e-3
        p_res = f_aero * v + f_roll * vw
        # the banking: a rider at height h = (lane - line) sin(bank) above the riders' line
        # pays m g dh/dt to climb and gets it back coming down (banking.py)
        dl = min(max((C[i, CT_LANE_TGT] - lane) * 4.0, -latv), latv)
        up = lane - dlane
        # (a rider within a millimetre of its line, or drifting onto it slower than 0.1 mm/s,
        # is on it: under a joule of height, and the banking's trigonometry skipped)
        if abs(up) > 1e-3 or abs(dl) > 1e-4:
            p_res += PR[i, PR_MASS] * grav * _climb_rate(x, up, dl, max(S[i, SV], 0.0) * pf, gp)
        plim = _avail(vw, w, PR, RC, i)
        PF[i, 3] = plim
        ec = PR[i, PR_EC]
        iec = RC[i, RC_IEC]
        mode = C[i, CT_MODE]
        # speed the rider may not exceed: the derny's, until it leaves
        vmax = 1e9
        if derny_on:
            vmax = (vdp + _gap_term(g_d - C[i, CT_GAPDES], kp)) * ipf
        if mode == MODE_EFFORT:
            p = C[i, CT_EFFORT] * plim
            if derny_on:
                pcap = (PR[i, PR_MEFF] * (vmax - v) * itc * v + p_res) * iec
                p = min(p, max(pcap, -brake))
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
            if tj >= 0 and (C[tj, CT_MODE] == MODE_DONE or S[tj, SX] <= x):
                # a wheel fallen behind is no wheel (riders holding each other's wheels in a
                # ring would otherwise brake one another to a stop)
                tj = -1
            if tj >= 0:
                prog = S[tj, SV] * PF[tj, 0]
                vt = (prog + _gap_term(S[tj, SX] - bike - x - gapdes, kp)) * ipf
            full = 0
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
                prog = S[q, SV] * PF[q, 0]
                c = (prog + _gap_term(g - gapdes, kp)) * ipf + FOLLOW_SOFT_MS * (1.0 - wq)
                if c < vt:
                    vt = c
                if wq > wmax:
                    wmax = wq
                if wq >= 1.0:
                    full += 1
                    if full == FOLLOW_WHEELS:
                        break
            # the free speed binds only as far as no wheel is there to follow, and so does the
            # pace: the share of its available power a rider at the front spends to reach it
            cap = plim
            if not derny_on and tj < 0:
                vt = min(vt, C[i, CT_VFREE] + FOLLOW_SOFT_MS * wmax)
                pace = C[i, CT_PACE]
                if pace < 1.0:
                    cap = plim * (pace + (1.0 - pace) * wmax)
                    PF[i, 3] = cap
            vt = min(vt, C[i, CT_VCAP], vmax)
            p = (PR[i, PR_MEFF] * (vt - v) * itc * v + p_res) * iec
            p = min(max(p, -brake), cap)
        P[i] = p
        # geometry: above the measurement line a bend is longer
        dS[i, SX] = max(S[i, SV], 0.0) * pf
        dS[i, SV] = (p * ec - p_res) / v * RC[i, RC_IM]
        if S[i, SV] <= 0.5 and dS[i, SV] < 0.0:
            dS[i, SV] = 0.0  # a rider brought to a crawl stops there; it never rides backwards
        cp = PR[i, PR_CP]
        if p > cp:
            # the time-based fade (rider.py): the reserve drains at the fatigued peak's excess
            # over CP, times the share of the capacity above CP the rider uses
            u = min((p - cp) / max(plim - cp, FADE_SOFT_W), 1.0)
            dS[i, SW] = -(PR[i, PR_PMAX] - cp) * min(max(w * RC[i, RC_IW0], 0.0), 1.0) * u
        else:
            dS[i, SW] = (cp - p) * (PR[i, PR_W0] - w) * RC[i, RC_IW0]
        dS[i, SLANE] = dl
        dS[i, SE_IN] = p * ec
        dS[i, SE_AERO] = f_aero * v
        dS[i, SE_ROLL] = f_roll * vw


@njit(cache=CACHE, _nrt=False, error_model="numpy")
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
        if i1 < 0 or m2 < -1e17 or C[i1, CT_MODE] != MODE_EFFORT:
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
        # rider a is within val metres of a slower wheel in its line (a finished rider is not)
        if C[a, CT_MODE] == MODE_DONE:
            return -1.0
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
        # about to touch the wheel: closing on it, and within val metres plus the ground the
        # closing speed covers while the rider gets a shoulder (the in-line tolerance) clear
        # at its lateral speed (continuous in the state)
        dv = S[a, SV] - S[jb, SV]
        return min(val + max(dv, 0.0) * tol / gp[GP_LAT] - (best - gp[GP_BIKE]), dv)
    return -1.0


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=FASTMATH)
def _bs_error(h, K1, K2, K3, K4, i, c):
    """Local error estimate of the Bogacki-Shampine pair for component ``c`` of rider ``i``."""
    return h * (
        -5.0 / 72.0 * K1[i, c] + 1.0 / 12.0 * K2[i, c] + 1.0 / 9.0 * K3[i, c] - 1.0 / 8.0 * K4[i, c]
    )


@njit(cache=CACHE, _nrt=False, error_model="numpy", fastmath=FASTMATH)
def _step(
    S0, S, D, PR, RC, C, gp, h, K1, K2, K3, K4, P4, ST, order, rank, ahead, gahead, shelter, PF
):
    """One step of the Bogacki-Shampine 3(2) pair from ``S0`` (slopes ``K1`` there) to ``S``;
    ``K4``/``P4`` receive the slopes and powers at the new state (first-same-as-last: they are
    the next step's ``K1``), ``ST`` the stage state.  The derny's position is integrated
    alongside.  Returns the error of the embedded second-order solution, scaled by the
    tolerances (accept the step when at most 1)."""
    n = S0.shape[0]
    derny_on = D[D_ACTIVE] > 0.5
    xd0 = D[D_X]
    vd1 = derny_progress(xd0, gp)
    for i in range(n):
        for c in range(NDYN):
            ST[i, c] = S0[i, c] + 0.5 * h * K1[i, c]
    xd2 = xd0 + 0.5 * h * vd1
    D[D_X] = xd2
    deriv(ST, D, PR, RC, C, gp, K2, P4, order, rank, ahead, gahead, shelter, PF, False)
    vd2 = derny_progress(xd2, gp)
    for i in range(n):
        for c in range(NDYN):
            ST[i, c] = S0[i, c] + 0.75 * h * K2[i, c]
    xd3 = xd0 + 0.75 * h * vd2
    D[D_X] = xd3
    deriv(ST, D, PR, RC, C, gp, K3, P4, order, rank, ahead, gahead, shelter, PF, False)
    vd3 = derny_progress(xd3, gp)
    for i in range(n):
        for c in range(NSTATE):
            S[i, c] = S0[i, c] + h * (
                2.0 / 9.0 * K1[i, c] + 1.0 / 3.0 * K2[i, c] + 4.0 / 9.0 * K3[i, c]
            )
    xd = xd0
    if derny_on:
        xd = xd0 + h * (2.0 / 9.0 * vd1 + 1.0 / 3.0 * vd2 + 4.0 / 9.0 * vd3)
    D[D_X] = xd
    deriv(S, D, PR, RC, C, gp, K4, P4, order, rank, ahead, gahead, shelter, PF)
    # scaled error of the embedded solution
    scale = gp[GP_DT] / DT_REF
    scale = scale * scale * scale
    ix = 1.0 / (_ATOL[SX] * scale)
    iv = 1.0 / (_ATOL[SV] * scale)
    iw = 1.0 / (_ATOL[SW] * scale)
    il = 1.0 / (_ATOL[SLANE] * scale)
    ivf = iv / FOLLOW_VTOL
    ixf = ix / FOLLOW_XTOL
    err = 0.0
    for i in range(n):
        if C[i, CT_MODE] == MODE_DONE:
            continue
        # a follower's speed error is corrected by its follow law, a free rider's is not; nor
        # is that of a follower riding at (about) its power limit, chasing a wheel it cannot
        # hold (PF[:, 3]: the limit deriv found at the step's end)
        fol = C[i, CT_MODE] == MODE_FOLLOW and P4[i] < FOLLOW_CAPPED * PF[i, 3]
        ei = abs(_bs_error(h, K1, K2, K3, K4, i, SX)) * (ixf if fol else ix)
        ei = max(ei, abs(_bs_error(h, K1, K2, K3, K4, i, SV)) * (ivf if fol else iv))
        ei = max(ei, abs(_bs_error(h, K1, K2, K3, K4, i, SW)) * iw)
        ei = max(ei, abs(_bs_error(h, K1, K2, K3, K4, i, SLANE)) * il)
        if ei > err:
            err = ei
    if derny_on:
        vd4 = derny_progress(xd, gp)
        e = h * (-5.0 / 72.0 * vd1 + 1.0 / 12.0 * vd2 + 1.0 / 9.0 * vd3 - 1.0 / 8.0 * vd4)
        err = max(err, abs(e) * ix)
    return err


@njit(cache=CACHE, error_model="numpy", fastmath=FASTMATH)
def _hermite(th, h, y0, d0, y1, d1):
    """Cubic Hermite interpolation at fraction ``th`` of a step of length ``h`` (values and
    slopes at both ends): the step's dense output, third-order like the step itself."""
    h00 = (1.0 + 2.0 * th) * (1.0 - th) * (1.0 - th)
    h10 = th * (1.0 - th) * (1.0 - th) * h
    h01 = th * th * (3.0 - 2.0 * th)
    h11 = th * th * (th - 1.0) * h
    return h00 * y0 + h10 * d0 + h01 * y1 + h11 * d1


@njit(cache=CACHE, error_model="numpy", fastmath=FASTMATH)
def _cross(target, h, y0, d0, y1, d1):
    """Fraction of the step at which the dense output of a rising quantity reaches
    ``target`` (y0 < target <= y1): a linear guess refined by Newton steps."""
    if y1 <= y0:
        return 1.0
    th = (target - y0) / (y1 - y0)
    for _ in range(4):
        g = _hermite(th, h, y0, d0, y1, d1) - target
        dg = (
            6.0 * th * (th - 1.0) * y0
            + (1.0 - th) * (1.0 - 3.0 * th) * h * d0
            + 6.0 * th * (1.0 - th) * y1
            + th * (3.0 * th - 2.0) * h * d1
        )
        if dg <= 0.0:
            break
        nt = min(1.0, max(0.0, th - g / dg))
        if abs(nt - th) < 1e-12:
            th = nt
            break
        th = nt
    return th


@njit(cache=CACHE, _nrt=False, error_model="numpy", fastmath=FASTMATH)
def _close_limit(S, C, order, h):
    """Longest step (s) in which no rider closes on its neighbour in the order (within
    ``CLOSE_RANGE_M``) by more than ``CLOSE_PER_STEP_M``: passes, lines forming and blocked
    wheels are then resolved step by step whatever the error estimate allows."""
    n = S.shape[0]
    prev = -1
    for p in range(n):
        j = order[p]
        if C[j, CT_MODE] == MODE_DONE:
            continue
        if prev >= 0:
            d = S[j, SX] - S[prev, SX]
            if d < CLOSE_RANGE_M:
                dv = abs(S[j, SV] - S[prev, SV])
                if dv * h > CLOSE_PER_STEP_M:
                    h = CLOSE_PER_STEP_M / dv
        prev = j
    return h


@njit(cache=CACHE, _nrt=False, error_model="numpy", fastmath=FASTMATH)
def _trace_rows(
    t,
    h,
    S0,
    K1,
    S,
    K4,
    d0x,
    D,
    derny_on,
    PR,
    RC,
    C,
    gp,
    tr_t,
    tr,
    tr_n,
    order,
    rank,
    ahead,
    gahead,
    shelter,
    ST,
    F,
    PT,
    DT,
    PF,
):
    """Trace rows on the regular grid ``k * dt`` that fall inside the step [t, t + h), taken
    from the step's dense output, with the power the riders ride at in that state.  Leaves the
    integration untouched (the links to the wheels ahead are taken again at the step's end),
    so a race gives the same result with or without traces."""
    n = S.shape[0]
    dt = gp[GP_DT]
    cap = tr_t.shape[0]
    if tr_n[0] >= cap or tr_n[0] * dt >= t + h:
        return
    xde = D[D_X]
    vd0 = derny_progress(d0x, gp)
    vde = derny_progress(xde, gp)
    DT[D_ACTIVE] = D[D_ACTIVE]
    while tr_n[0] < cap and tr_n[0] * dt < t + h:
        r = tr_n[0]
        tg = r * dt
        th = min(1.0, max(0.0, (tg - t) / h))
        for i in range(n):
            for c in range(NDYN):
                ST[i, c] = _hermite(th, h, S0[i, c], K1[i, c], S[i, c], K4[i, c])
            # W' between the step's ends: a cubic could overshoot a full W' by a joule
            ST[i, SW] = S0[i, SW] + th * (S[i, SW] - S0[i, SW])
        DT[D_X] = _hermite(th, h, d0x, vd0, xde, vde) if derny_on else d0x
        deriv(ST, DT, PR, RC, C, gp, F, PT, order, rank, ahead, gahead, shelter, PF)
        tr_t[r] = tg
        for i in range(n):
            tr[r, i, 0] = ST[i, SX]
            tr[r, i, 1] = ST[i, SV]
            tr[r, i, 2] = PT[i]
            tr[r, i, 3] = ST[i, SW]
            tr[r, i, 4] = ST[i, SLANE]
            tr[r, i, 5] = DT[D_X] if derny_on else np.nan
        tr_n[0] = r + 1
    _links(S, C, gp, order, rank, ahead, gahead, shelter)


@njit(cache=CACHE, _nrt=False, error_model="numpy")
def _log(rlog, hs, t, code, a, b, value):
    r = int(hs[HS_RLOG])
    rlog[r, RL_T] = t
    rlog[r, RL_CODE] = code
    rlog[r, RL_A] = a
    rlog[r, RL_B] = b
    rlog[r, RL_VALUE] = value
    hs[HS_RLOG] = r + 1


@njit(cache=CACHE, _nrt=False, error_model="numpy")
def _boxed_now(rlog, hs):
    """Whether the reflex just logged boxed a rider in: the kernel then returns, so that the
    race arms the box's opening at once (not at the next SimPy event, which may be the finish),
    as it does when the reflex is handed back."""
    r = int(hs[HS_RLOG])
    return r > 0 and int(rlog[r - 1, RL_CODE]) == RX_BOXED


@njit(cache=CACHE, _nrt=False, error_model="numpy")
def reflex(k, t, S, D, C, PR, gp, WK, WV, rlog, hs):
    """Carry out reflex watch ``k``, which fires at ``t``; False (and nothing done) when the
    reflex log has no room for what it would log.  Plain IEEE arithmetic (no fastmath), like
    the Python these replaced.  Each is logged in ``rlog`` (time, code, a, b, value):

    - ``RX_STEER``, the steering reflex of a rider on an effort.  Blocked (within
      ``GP_BLOCK`` of a slower wheel in its line): it swings out above everyone riding level
      with that wheel (within a bike length) and the watch becomes "clear of the front one of
      them by a bike length and a metre" (logged: rider, wheel); clear: it drops back into its
      line and the watch becomes "blocked" again.  A rider no longer on an effort stops.
    - ``RX_FINISH``: the rider crosses the line: it is done (logged: rider, its W').
    - ``RX_JUMP``: a rider on an effort comes past riders of the watch's mask: each of them
      still following (the derny gone) takes its wheel (logged: that rider, the wheel); the
      watch goes on for the riders of the mask still ahead of it.
    - ``RX_BOXED`` (logged by the steering reflex): blocked with a rival alongside on the
      outside, the rider cannot come out: it takes the wheel ahead and its watch ends
      (logged: rider, the rival); race.py lets it go again when the box opens.
    """
    room = rlog.shape[0] - int(hs[HS_RLOG])
    n = S.shape[0]
    i = WK[k, WK_A]
    rx = WK[k, WK_REFLEX]
    if rx == RX_FINISH:
        if room < 1:
            return False
        C[i, CT_MODE] = MODE_DONE
        WK[k, WK_ACTIVE] = 0
        _log(rlog, hs, t, RX_FINISH, i, -1, S[i, SW])
        return True
    if rx == RX_JUMP:
        if room < n:
            return False
        mask = WK[k, WK_B]
        left = 0
        follow = C[i, CT_MODE] == MODE_EFFORT and D[D_ACTIVE] < 0.5
        for j in range(n):
            if not (mask >> j) & 1:
                continue
            if S[i, SX] < S[j, SX]:
                left |= 1 << j
            elif follow and C[j, CT_MODE] == MODE_FOLLOW:
                C[j, CT_VCAP] = 1e9
                C[j, CT_TARGET] = i
                _log(rlog, hs, t, RX_JUMP, j, i, 0.0)
        if C[i, CT_MODE] == MODE_EFFORT and left:
            WK[k, WK_B] = left
        else:
            WK[k, WK_ACTIVE] = 0
        return True
    if C[i, CT_MODE] != MODE_EFFORT:
        WK[k, WK_ACTIVE] = 0
        return True
    tol = gp[GP_INLINE]
    bike = gp[GP_BIKE]
    if WK[k, WK_KIND] == W_BLOCKED:
        if room < 1:
            return False
        xi = S[i, SX]
        near = 0.0
        jn = -1
        for j in range(n):
            if j == i or C[j, CT_MODE] == MODE_DONE:
                continue
            if S[j, SX] > xi and abs(S[j, SLANE] - S[i, SLANE]) < tol:
                if jn < 0 or S[j, SX] < near:
                    near = S[j, SX]
                    jn = j
        if jn < 0:
            # located on the step's dense output, the wheel was in line; at the step's end
            # it is not (the watch is below zero again): stay on the watch
            return True
        # boxed: a rival alongside on the outside (overlapping by any part of a bike) leaves
        # no room to come out; the rider sits on the wheel ahead (the race decides when the
        # box opens) instead of riding into it
        for q in range(n):
            if q == i or q == jn or C[q, CT_MODE] == MODE_DONE:
                continue
            if abs(S[q, SX] - xi) < bike and S[q, SLANE] > S[i, SLANE] + 0.5 * tol:
                C[i, CT_MODE] = MODE_FOLLOW
                C[i, CT_TARGET] = jn
                C[i, CT_VCAP] = 1e9
                C[i, CT_PACE] = 1.0
                WK[k, WK_ACTIVE] = 0
                _log(rlog, hs, t, RX_BOXED, i, q, 0.0)
                return True
        swing = gp[GP_SWING]
        top = -1e300
        low = 1e300
        jb = -1
        for q in range(n):
            if q == i or C[q, CT_MODE] == MODE_DONE:
                continue
            if near - 0.5 <= S[q, SX] <= near + bike:
                top = max(top, max(C[q, CT_LANE_TGT], S[q, SLANE]))
                low = min(low, min(C[q, CT_LANE_TGT], S[q, SLANE]))
                if jb < 0 or S[q, SX] > S[jb, SX]:
                    jb = q
        tgt = top + swing
        if final_straight(xi, gp) and low - swing >= PR[i, PR_LANE0] - 1e-9:
            # late in the straight, the riders ahead ride up the track: the gap on the inside
            # is open unless a rival is alongside below (then over the top as usual)
            free = True
            for q in range(n):
                if q == i or C[q, CT_MODE] == MODE_DONE:
                    continue
                if abs(S[q, SX] - xi) < bike and S[q, SLANE] < S[i, SLANE] - 0.5 * tol:
                    free = False
            if free:
                tgt = max(low - swing, PR[i, PR_LANE0])
        C[i, CT_LANE_TGT] = tgt
        WK[k, WK_KIND] = W_PASS
        WK[k, WK_B] = jb
        WV[k] = bike + 1.0
        _log(rlog, hs, t, RX_STEER, i, jb, 0.0)
    else:
        if not final_straight(S[i, SX], gp):
            # clear: back into its line; in the final straight a sprinter holds its line
            C[i, CT_LANE_TGT] = PR[i, PR_LANE0]
        WK[k, WK_KIND] = W_BLOCKED
        WK[k, WK_B] = -1
        WV[k] = gp[GP_BLOCK]
    return True


@njit(cache=CACHE, error_model="numpy")
def advance(
    S, D, PR, C, gp, t0, t1, WK, WV, nw, marks, lapt, lapx, stats, catch, rlog, tr_t, tr, tr_n, hs
):
    """Integrate from ``t0`` to at most ``t1``; return (t, index of the fired watch or -1).
    The first ``nw`` rows of ``WK``/``WV`` are the watches (kind, a, b, active, reflex /
    value).  A watch marked *reflex* (``reflex``: steering, the finish, taking a passing
    wheel) is carried out by the kernel where it fires, and the kernel goes on exactly as if
    it had returned and been called again, except that after boxing a rider in it returns
    (t, -1), so that the race arms the box's opening at once.  When the reflex log ``rlog``
    has no room for it,
    the kernel returns the reflex's watch as fired instead: the caller reads and empties the
    log and carries the reflex out itself (``reflex``).  It returns (t, -1) once every
    rider has finished.

    The step adapts to the error estimate of the Bogacki-Shampine pair (``hs[HS_H]`` carries
    the proposed step from one call to the next; ``hs`` also counts steps, rejected steps,
    located state events and calls).  Records as it goes (no decisions): each rider's
    crossing time of each mark in ``marks`` (``lapt``), every rider's position when the first
    rider crosses a mark (``lapx``), top speed and peak power (``stats``), the first catch of
    the attacker (``catch``) and, when ``tr`` has room, a trace row every ``dt`` from the
    dense output (``tr_t``, ``tr``; ``tr_n[0]`` counts rows).
    """
    n = S.shape[0]
    nm = marks.shape[0]
    dt = gp[GP_DT]
    hmax = dt * HMAX_FACTOR
    S0 = np.empty_like(S)
    ST = np.empty_like(S)
    K1 = np.empty_like(S)
    K2 = np.empty_like(S)
    K3 = np.empty_like(S)
    K4 = np.empty_like(S)
    P1 = np.empty(n)
    P4 = np.empty(n)
    gprev = np.empty(nw)
    gnew = np.empty(nw)
    glo = np.empty(nw)
    ghi = np.empty(nw)
    DT = np.empty(2)
    order = np.arange(n)
    rank = np.arange(n)
    ahead = np.empty(n, dtype=np.int64)
    gahead = np.empty(n)
    shelter = np.empty(n)
    PF = np.empty((n, 4))
    act = np.empty(nw, dtype=np.int64)
    RC = np.empty((n, NRECIP))
    reciprocals(PR, RC)
    hs[HS_CALLS] += 1
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
    for _start in range(1_000_000):
        # the watches where the integration starts (again, after a reflex): one that has
        # already fired fires now, at once
        na = 0
        kf = -1
        for k in range(nw):
            gprev[k] = -1.0
            if WK[k, 3] == 1:
                act[na] = k
                na += 1
                gprev[k] = watch_value(WK[k, 0], WK[k, 1], WK[k, 2], WV[k], S, D, PR, C, gp)
                if gprev[k] >= 0.0:
                    kf = k
                    break
        if kf >= 0:
            if WK[kf, WK_REFLEX] == RX_NONE:
                return t, kf
            if not reflex(kf, t, S, D, C, PR, gp, WK, WV, rlog, hs):
                return t, kf
            if _boxed_now(rlog, hs):
                return t, -1
            continue
        done = True
        for i in range(n):
            if C[i, CT_MODE] != MODE_DONE:
                done = False
        if done:
            return t, -1
        deriv(S, D, PR, RC, C, gp, K1, P1, order, rank, ahead, gahead, shelter, PF)
        kf = -1
        while t < t1 - 1e-12:
            S0[:, :] = S
            d0x = D[D_X]
            derny_was_on = D[D_ACTIVE] > 0.5
            hprop = min(hs[HS_H], hmax)
            # the step is cut short at the next SimPy event and where riders close on each other;
            # neither is an error estimate, so neither shrinks the next proposal
            hcap = _close_limit(S0, C, order, t1 - t)
            h = min(hprop, hcap)
            while True:
                err = _step(
                    S0,
                    S,
                    D,
                    PR,
                    RC,
                    C,
                    gp,
                    h,
                    K1,
                    K2,
                    K3,
                    K4,
                    P4,
                    ST,
                    order,
                    rank,
                    ahead,
                    gahead,
                    shelter,
                    PF,
                )
                fac = 0.7 / np.cbrt(max(err, 1e-12))
                if err <= 1.0 or h <= HMIN:
                    hn = h * min(fac, 2.0)
                    hs[HS_H] = max(hn, hprop) if h < hprop and fac >= 1.0 else hn
                    break
                hprop = max(h * max(fac, 0.2), HMIN)
                hs[HS_REJECTED] += 1
                h = min(hprop, hcap)
                D[D_X] = d0x
                _links(S0, C, gp, order, rank, ahead, gahead, shelter)
            # earliest state event in this step
            kf = -1
            th = 2.0
            for a in range(na):
                k = act[a]
                kind = WK[k, 0]
                if kind == W_RIDER_MARK:  # the common kinds, without a call
                    g = S[WK[k, 1], SX] - WV[k]
                elif kind == W_BLOCKED:
                    # as watch_value: the nearest wheel ahead in line is the one the step's
                    # last slopes linked (none for a finished rider)
                    a = WK[k, 1]
                    j = ahead[a]
                    g = min(WV[k] - gahead[a], S[a, SV] - S[j, SV]) if j >= 0 else -1.0
                else:
                    g = watch_value(kind, WK[k, 1], WK[k, 2], WV[k], S, D, PR, C, gp)
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
                xde = D[D_X]
                vd0 = derny_progress(d0x, gp)
                vde = derny_progress(xde, gp)
                for a in range(na):
                    glo[act[a]] = gprev[act[a]]
                    ghi[act[a]] = gnew[act[a]]
                lo = 0.0
                hi = 1.0
                th = min(max(th, 1e-6), 1.0 - 1e-6)
                for _it in range(40):
                    # written out here and in _trace_rows: a helper shared by both made the code
                    # loaded from numba's cache round differently from freshly compiled code
                    for i in range(n):
                        for c in range(NDYN):
                            ST[i, c] = _hermite(th, h, S0[i, c], K1[i, c], S[i, c], K4[i, c])
                    DT[D_X] = _hermite(th, h, d0x, vd0, xde, vde)
                    DT[D_ACTIVE] = D[D_ACTIVE]
                    crossed = False
                    for a in range(na):
                        k = act[a]
                        g = watch_value(WK[k, 0], WK[k, 1], WK[k, 2], WV[k], ST, DT, PR, C, gp)
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
                hs[HS_LOCATED] += 1
                if kf < 0:  # pragma: no cover - the bracket guarantees a crossing at hi
                    kf = act[0]
                D[D_X] = d0x
                _links(S0, C, gp, order, rank, ahead, gahead, shelter)
                h = hi * h
                _step(
                    S0,
                    S,
                    D,
                    PR,
                    RC,
                    C,
                    gp,
                    h,
                    K1,
                    K2,
                    K3,
                    K4,
                    P4,
                    ST,
                    order,
                    rank,
                    ahead,
                    gahead,
                    shelter,
                    PF,
                )
            else:
                for a in range(na):
                    gprev[act[a]] = gnew[act[a]]
            tn = t + h
            hs[HS_STEPS] += 1
            # records (on the step's dense output)
            i1 = -1
            for i in range(n):
                if C[i, CT_MODE] == MODE_DONE:
                    continue
                if i1 < 0 or S[i, SX] > S[i1, SX]:
                    i1 = i
                if S[i, SV] > stats[i, ST_VMAX]:
                    stats[i, ST_VMAX] = S[i, SV]
                if P1[i] > stats[i, ST_PMAX]:
                    stats[i, ST_PMAX] = P1[i]
                while nxt[i] < nm and marks[nxt[i]] <= S[i, SX]:
                    m = nxt[i]
                    f = _cross(marks[m], h, S0[i, SX], K1[i, SX], S[i, SX], K4[i, SX])
                    lapt[i, m] = t + f * h
                    nxt[i] = m + 1
            while i1 >= 0 and nxl < nm and marks[nxl] <= S[i1, SX]:
                # the first rider over the mark: the leader at the end of the step, or a rider
                # it passed inside the step who crossed earlier
                f = 1.0
                for i in range(n):
                    if (
                        C[i, CT_MODE] != MODE_DONE
                        and S[i, SX] >= marks[nxl]
                        and S0[i, SX] < marks[nxl]
                    ):
                        fi = _cross(marks[nxl], h, S0[i, SX], K1[i, SX], S[i, SX], K4[i, SX])
                        if fi < f:
                            f = fi
                if S0[i1, SX] >= marks[nxl]:
                    f = 0.0
                for i in range(n):
                    lapx[nxl, i] = _hermite(f, h, S0[i, SX], K1[i, SX], S[i, SX], K4[i, SX])
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
                    # only an attack can be caught: the attacker clear of everyone on an effort
                    if xa - best > ATTACK_CLEAR_M and C[att, CT_MODE] == MODE_EFFORT:
                        catch[CR_LED] = 1.0
                elif best >= xa and C[att, CT_MODE] != MODE_DONE:
                    d0 = S0[att, SX] - S0[jb, SX]
                    f = 0.0
                    if d0 > 0.0:
                        # the lead (attacker minus catcher) falls to zero inside the step
                        f = _cross(
                            0.0,
                            h,
                            -d0,
                            K1[jb, SX] - K1[att, SX],
                            best - xa,
                            K4[jb, SX] - K4[att, SX],
                        )
                    catch[CR_T] = t + f * h
                    catch[CR_X] = _hermite(f, h, S0[att, SX], K1[att, SX], xa, K4[att, SX])
                    catch[CR_BY] = jb
            if tr_n[0] < tr_t.shape[0]:
                _trace_rows(
                    t,
                    h,
                    S0,
                    K1,
                    S,
                    K4,
                    d0x,
                    D,
                    derny_was_on,
                    PR,
                    RC,
                    C,
                    gp,
                    tr_t,
                    tr,
                    tr_n,
                    order,
                    rank,
                    ahead,
                    gahead,
                    shelter,
                    ST,
                    K2,
                    P4,
                    DT,
                    PF,
                )
            t = tn
            if kf >= 0:
                if WK[kf, WK_REFLEX] == RX_NONE:
                    return t, kf
                if not reflex(kf, t, S, D, C, PR, gp, WK, WV, rlog, hs):
                    return t, kf
                if _boxed_now(rlog, hs):
                    return t, -1
                break  # start again from here, with what the reflex changed
            # first same as last: the end slopes are the next step's start slopes
            K1, K4 = K4, K1
            P1, P4 = P4, P1
        if kf < 0:
            break
    return max(t, t1), -1


def trace_row_fields() -> tuple[str, ...]:
    """Names of the per-rider trace columns, in order."""
    return ("x_m", "v_ms", "power_w", "w_bal_j", "lane_m", "derny_x_m")


__all__ = ["advance", "deriv", "available_power", "envelope"]
