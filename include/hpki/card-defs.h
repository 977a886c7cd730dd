/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Constants of the HPKI card interface (JAHIS HPKI対応ICカードガイドライン Ver.3.1,
 * "G31" below) and of the layout observed on JMA 医師資格証 cards. Shared by the
 * card driver of the module and by the virtual card, so that both speak from the
 * same facts. No PKCS#11 types here.
 */
#ifndef HPKI_CARD_DEFS_H
#define HPKI_CARD_DEFS_H

#include <stdint.h>

/* ISO/IEC 7816-15 RID; every HPKI application AID starts with it (G31 §5.3.2). */
#define HPKI_RID_LEN 5
#define HPKI_RID 0xE8, 0x28, 0xBD, 0x08, 0x0F

/* Full AIDs observed on JMA cards; …01 signature, …02 authentication. */
#define HPKI_AID_LEN 16
#define HPKI_AID_SIGNATURE \
	HPKI_RID, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01
#define HPKI_AID_AUTHENTICATION \
	HPKI_RID, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02
#define HPKI_AID_MAX_LEN 16

/* Instruction bytes used by the guideline's command set (G31 table 11, C.1). */
enum hpki_ins {
	HPKI_INS_SELECT = 0xA4,
	HPKI_INS_READ_BINARY = 0xB0,
	HPKI_INS_VERIFY = 0x20,
	HPKI_INS_MSE = 0x22,
	HPKI_INS_PSO = 0x2A,
	HPKI_INS_GET_RESPONSE = 0xC0,
};

#define HPKI_CLA_ISO 0x00
#define HPKI_CLA_CHAIN 0x10      /* ISO 7816-4 §5.1.1: more commands follow */
#define HPKI_CLA_PROPRIETARY 0x80 /* JMA 2019 "80 2A 00 80" signature */

/* SELECT P1/P2 (G31 C.2.2). */
#define HPKI_SELECT_P1_DF_NAME 0x04
#define HPKI_SELECT_P1_EF_UNDER_DF 0x02
#define HPKI_SELECT_P2_FIRST_FCI 0x00
#define HPKI_SELECT_P2_NEXT_FCI 0x02
#define HPKI_SELECT_P2_NO_DATA 0x0C

/* MSE SET for computation, digital signature template (G31 C.5). */
#define HPKI_MSE_P1_SET_COMPUTE 0x41
#define HPKI_MSE_P2_DST 0xB6
#define HPKI_MSE_TAG_FILE_REF 0x81 /* guideline example: key IEF file reference */
#define HPKI_MSE_TAG_KEY_REF 0x84  /* JMA cards: private key reference */

/* PSO COMPUTE DIGITAL SIGNATURE (G31 C.6). */
#define HPKI_PSO_P1_SIGNATURE 0x9E
#define HPKI_PSO_P2_INPUT 0x9A
/* JMA 2019 legacy signature: card pads a DigestInfo itself. */
#define HPKI_LEGACY_SIGN_P1 0x00
#define HPKI_LEGACY_SIGN_P2 0x80

/* ISO 7816-15 directory files (G31 B.4 table B.1). */
#define HPKI_FID_CIAINFO 0x5032
#define HPKI_FID_OD 0x5031
#define HPKI_SFI_CIAINFO 0x12
#define HPKI_SFI_OD 0x11

/* JMA layout (hpki-card-facts §2.2): FIDs named by EF.OD and used for key and EE cert. */
#define HPKI_JMA_FID_AOD 0x0001
#define HPKI_JMA_FID_PRKD 0x0002
#define HPKI_JMA_FID_PUKD 0x0003
#define HPKI_JMA_FID_CD 0x0004
#define HPKI_JMA_FID_DCOD 0x0005
#define HPKI_JMA_FID_KEY 0x000C
#define HPKI_JMA_FID_EE_CERT 0x0016
#define HPKI_JMA_PIN_REFERENCE 0x88

/* Guideline example layout (G31 B.4): short EF identifiers. */
#define HPKI_JAHIS_PIN_REFERENCE 0x96

/* PIN rules (G31 §5.2.1, §5.2.2 (7)); cards lock after 15 wrong tries (JMACA, MEDISQ). */
#define HPKI_PIN_MIN_LEN 4
#define HPKI_PIN_MAX_LEN 16
#define HPKI_PIN_MAX_TRIES 15

/* Status words (ISO 7816-4 §5.6, G31 C.3.4). */
enum hpki_sw {
	HPKI_SW_OK = 0x9000,
	HPKI_SW_BYTES_AVAILABLE = 0x6100, /* 61xx: GET RESPONSE with Le=xx */
	HPKI_SW_FILE_DEACTIVATED = 0x6283,
	HPKI_SW_END_OF_FILE = 0x6282,
	HPKI_SW_PIN_TRIES_LEFT = 0x63C0,  /* 63Cx: x tries left */
	HPKI_SW_MEMORY_FAILURE = 0x6581,
	HPKI_SW_WRONG_LENGTH = 0x6700,
	HPKI_SW_LAST_CMD_EXPECTED = 0x6883,
	HPKI_SW_CHAINING_UNSUPPORTED = 0x6884,
	HPKI_SW_INCOMPATIBLE_FILE = 0x6981,
	HPKI_SW_SECURITY_STATUS = 0x6982,
	HPKI_SW_AUTH_BLOCKED = 0x6983,
	HPKI_SW_REF_DATA_BLOCKED = 0x6984,
	HPKI_SW_CONDITIONS_NOT_SATISFIED = 0x6985,
	HPKI_SW_NO_CURRENT_EF = 0x6986,
	HPKI_SW_WRONG_DATA = 0x6A80,
	HPKI_SW_FUNC_NOT_SUPPORTED = 0x6A81,
	HPKI_SW_FILE_NOT_FOUND = 0x6A82,
	HPKI_SW_WRONG_P1P2_DATA = 0x6A86,
	HPKI_SW_REF_NOT_FOUND = 0x6A88,
	HPKI_SW_WRONG_P1P2 = 0x6B00,
	HPKI_SW_WRONG_LE = 0x6C00, /* 6Cxx: repeat with Le=xx */
	HPKI_SW_INS_NOT_SUPPORTED = 0x6D00,
	HPKI_SW_CLA_NOT_SUPPORTED = 0x6E00,
	HPKI_SW_UNKNOWN = 0x6F00,
};

/* ISO 7816-4 §8.1.1.2.7 card capabilities, third software function byte. */
#define HPKI_CAP3_COMMAND_CHAINING 0x80
#define HPKI_CAP3_EXTENDED_LENGTH 0x40

#endif
