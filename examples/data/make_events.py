"""Generate ``events.fits``: a small simulated gamma-ray event list around Mrk 421.

The file is shipped with the examples so that ``lightcurve.ipynb`` runs offline. It mimics a
Fermi-LAT-like photon list (arrival time, sky position, energy) covering December 2021 to
February 2022, with a steady blazar, a two-day flare around 2022-01-15 and a flat background.

Run from anywhere; the output is deterministic (fixed seed):

    python examples/data/make_events.py [output.fits]
"""

import sys
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time

SEED = 421
SOURCE = SkyCoord(166.113808, 38.208833, unit="deg")  # Mrk 421
T_START = Time("2021-12-27T00:00:00", scale="utc").mjd
T_STOP = Time("2022-02-06T00:00:00", scale="utc").mjd
QUIESCENT_RATE = 30.0  # source photons per day
FLARE_PEAK_MJD = Time("2022-01-15T12:00:00", scale="utc").mjd
FLARE_AMPLITUDE = 120.0  # extra photons per day at the flare peak
FLARE_WIDTH = 1.5  # days (Gaussian sigma)
BACKGROUND_RATE = 60.0  # photons per day within FIELD_RADIUS
FIELD_RADIUS = 2.0  # degrees
PSF_SIGMA = 0.1  # degrees
PHOTON_INDEX = 2.2
E_MIN, E_MAX = 0.3, 300.0  # GeV


def power_law_energies(rng, n, index, e_min, e_max):
    """Draw energies from dN/dE ~ E^-index between e_min and e_max (inverse transform)."""
    g = 1.0 - index
    u_ = rng.uniform(size=n)
    return (e_min**g + u_ * (e_max**g - e_min**g)) ** (1.0 / g)


def make_events(seed=SEED):
    rng = np.random.default_rng(seed)
    duration = T_STOP - T_START

    # Source photons: a steady component plus a Gaussian flare, drawn by thinning.
    n_quiet = rng.poisson(QUIESCENT_RATE * duration)
    t_quiet = rng.uniform(T_START, T_STOP, n_quiet)
    n_flare = rng.poisson(FLARE_AMPLITUDE * FLARE_WIDTH * np.sqrt(2 * np.pi))
    t_flare = rng.normal(FLARE_PEAK_MJD, FLARE_WIDTH, n_flare)
    t_src = np.concatenate([t_quiet, t_flare])
    t_src = t_src[(t_src >= T_START) & (t_src < T_STOP)]
    offsets = rng.normal(0.0, PSF_SIGMA, (2, t_src.size))  # small-angle PSF smearing
    src_pos = SOURCE.spherical_offsets_by(offsets[0] * u.deg, offsets[1] * u.deg)

    # Background photons: uniform over a disk of FIELD_RADIUS around the source.
    n_bkg = rng.poisson(BACKGROUND_RATE * duration)
    t_bkg = rng.uniform(T_START, T_STOP, n_bkg)
    r = FIELD_RADIUS * np.sqrt(rng.uniform(size=n_bkg))
    pa = rng.uniform(0.0, 360.0, n_bkg)
    bkg_pos = SOURCE.directional_offset_by(pa * u.deg, r * u.deg)

    time = np.concatenate([t_src, t_bkg])
    ra = np.concatenate([src_pos.ra.deg, bkg_pos.ra.deg])
    dec = np.concatenate([src_pos.dec.deg, bkg_pos.dec.deg])
    energy = power_law_energies(rng, time.size, PHOTON_INDEX, E_MIN, E_MAX)

    order = np.argsort(time)
    events = Table(
        {
            "TIME": time[order],
            "RA": ra[order].astype(np.float32),
            "DEC": dec[order].astype(np.float32),
            "ENERGY": energy[order].astype(np.float32),
        }
    )
    events["TIME"].unit = u.d
    events["RA"].unit = u.deg
    events["DEC"].unit = u.deg
    events["ENERGY"].unit = u.GeV
    events.meta.update(
        {
            "EXTNAME": "EVENTS",
            "TELESCOP": "SIMULATED",
            "OBJECT": "Mrk 421",
            "RA_OBJ": SOURCE.ra.deg,
            "DEC_OBJ": SOURCE.dec.deg,
            "TIMESYS": "UTC",
            "TIMEUNIT": "d",
            "TSTART": T_START,
            "TSTOP": T_STOP,
            "COMMENT": "TIME is MJD (UTC); simulated by make_events.py, seed 421",
        }
    )
    return events


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("events.fits")
    table = make_events()
    table.write(out, format="fits", overwrite=True)
    print(f"wrote {len(table)} events to {out} ({out.stat().st_size / 1024:.0f} KiB)")
