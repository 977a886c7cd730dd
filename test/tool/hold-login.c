/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helper for hpki-tool (issue 13): "another program holding a login".
 * Connects (shared) to the first reader's card, selects the authentication
 * application, verifies its PIN (read from stdin's first line), says "held", waits
 * for a second line on stdin, then asks the card with an empty VERIFY whether the
 * verification is still there and prints "after: SW". Exit 0 when it still is (9000).
 * Usage: hold-login PIN-REFERENCE-HEX   (88 on the JMA profile, 96 on JAHIS)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

static const BYTE select_auth[] = { 0x00, 0xA4, 0x04, 0x00, 0x10, 0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xA0, 0x00,
				    0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00 };

static unsigned transmit(SCARDHANDLE h, const BYTE *cmd, DWORD len)
{
	BYTE resp[300];
	DWORD rlen = sizeof(resp);

	if (SCardTransmit(h, SCARD_PCI_T1, cmd, len, NULL, resp, &rlen) != SCARD_S_SUCCESS || rlen < 2)
		return 0;
	return (unsigned)resp[rlen - 2] << 8 | resp[rlen - 1];
}

int main(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, len = 0;
	char readers[1024], pin[32], line[16];
	BYTE verify[5 + 16] = { 0x00, 0x20, 0x00, 0x88 };
	unsigned sw;

	if (argc > 1)
		verify[3] = (BYTE)strtoul(argv[1], NULL, 16);
	if (fgets(pin, sizeof(pin), stdin) == NULL)
		return 2;
	pin[strcspn(pin, "\n")] = '\0';
	len = sizeof(readers);
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS ||
	    SCardListReaders(ctx, NULL, readers, &len) != SCARD_S_SUCCESS ||
	    SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &h, &proto) != SCARD_S_SUCCESS)
		return 2;
	verify[4] = (BYTE)strlen(pin);
	memcpy(verify + 5, pin, strlen(pin));
	sw = transmit(h, select_auth, sizeof(select_auth));
	if (sw == 0x9000)
		sw = transmit(h, verify, 5 + verify[4]);
	memset(pin, 0, sizeof(pin));
	memset(verify, 0, sizeof(verify));
	printf("held: %04X\n", sw);
	fflush(stdout);
	if (sw != 0x9000 || fgets(line, sizeof(line), stdin) == NULL)
		return 1;
	verify[1] = 0x20; /* empty VERIFY: the PIN state, no try used (G31 C.3.4) */
	verify[3] = (BYTE)(argc > 1 ? strtoul(argv[1], NULL, 16) : 0x88);
	sw = transmit(h, verify, 4);
	printf("after: %04X\n", sw);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return sw == 0x9000 ? 0 : 1;
}
