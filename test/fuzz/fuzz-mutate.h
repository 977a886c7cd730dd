/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Structure-aware mutation of the reader's replay format (fuzz-mutate.c). */
#ifndef HPKI_FUZZ_MUTATE_H
#define HPKI_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

/* For LLVMFuzzerCustomMutator: `header` bytes precede the replay stream. */
size_t hpki_fuzz_mutate_replay(uint8_t *data, size_t size, size_t max_size, unsigned int seed, size_t header);

#endif
