# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the .e2e scripts (run by "make check" through E2E_LOG_COMPILER, which
# sets the paths below for out-of-tree builds; the defaults suit an in-tree build).
set -u
e2e_dir=$(cd "$(dirname "$0")" && pwd)
WITH_VCARD=${WITH_VCARD:-$e2e_dir/../with-vcard}
E2E_CARD=${HPKI_E2E_CARD:-$e2e_dir/e2e-card}
# Mount and network namespaces need root (testbed-and-consumers.md §1.2).
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the PC/SC test bed needs root"
	exit 77
fi
