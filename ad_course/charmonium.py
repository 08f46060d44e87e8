"""The charmonium data of notebook 08, in one place: its cells show them, its exercises'
checkers and the tests check against them."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

# Eichten et al., Phys. Rev. D 17 (1978) 3090 and D 21 (1980) 203: the Cornell potential
# -kappa/r + r/a^2 with kappa = 0.52, a = 2.34 GeV^-1, and m_c = 1.84 GeV.
EICHTEN = np.array([0.52, 1 / 2.34**2, 1.84])  # kappa, sigma = 1/a^2 [GeV^2], m_c [GeV]
EICHTEN.flags.writeable = False  # shared by the notebook and the checkers: take a copy to change it

# PDG 2024 (S. Navas et al., Phys. Rev. D 110 (2024) 030001), MeV, rounded to 0.1 MeV; read-only,
# as EICHTEN: a student's change would move the checkers' reference (dict(PDG_MASSES) to change it)
PDG_MASSES = MappingProxyType({"eta_c": 2984.1, "J/psi": 3096.9, "eta_c(2S)": 3637.7, "psi(2S)": 3686.1,
              "h_c": 3525.4, "chi_c0": 3414.7, "chi_c1": 3510.7, "chi_c2": 3556.2,
              "psi(3770)": 3773.7, "psi2(3823)": 3823.5, "psi3(3842)": 3842.7,
              "psi(4040)": 4039.0, "D0": 1864.8})


def spin_averaged_masses(pdg=PDG_MASSES):
    """The spin-averaged masses of 1S, 2S and 1P [GeV], what a potential without
    spin-dependent forces predicts: (eta_c + 3 J/psi)/4, (eta_c(2S) + 3 psi(2S))/4 and
    the chi_cJ weighted by 2J + 1, (chi_c0 + 3 chi_c1 + 5 chi_c2)/9."""
    return np.array([
        (pdg["eta_c"] + 3 * pdg["J/psi"]) / 4,
        (pdg["eta_c(2S)"] + 3 * pdg["psi(2S)"]) / 4,
        (pdg["chi_c0"] + 3 * pdg["chi_c1"] + 5 * pdg["chi_c2"]) / 9,
    ]) / 1e3
