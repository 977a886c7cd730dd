// SPDX-License-Identifier: LGPL-2.1-or-later
//
// HpkiSign: signs a file with the HPKI *signature* key from Java, through the JDK's
// own PKCS#11 wrapper (the layer under the SunPKCS11 provider). The SunPKCS11
// provider of OpenJDK 17 never calls C_Login(CKU_CONTEXT_SPECIFIC), so it cannot
// use a key with CKA_ALWAYS_AUTHENTICATE (PKCS#11 2.40 §4.9: re-authenticate after
// C_SignInit); this program does that login itself (doc/consumers-tools.md, Java).
//
//   javac --add-modules jdk.crypto.cryptoki \
//         --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED HpkiSign.java
//   java  --add-modules jdk.crypto.cryptoki \
//         --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED \
//         HpkiSign MODULE.so "TOKEN LABEL" PIN IN-FILE OUT-SIGNATURE
//
// Writes a PKCS#1 v1.5 SHA-256 signature (CKM_SHA256_RSA_PKCS) of IN-FILE. Verify it:
//   openssl x509 -in sig.crt.pem -pubkey -noout >pub.pem
//   openssl dgst -sha256 -verify pub.pem -signature OUT-SIGNATURE IN-FILE
import java.nio.file.Files;
import java.nio.file.Paths;
import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.CK_MECHANISM;
import sun.security.pkcs11.wrapper.PKCS11;
import static sun.security.pkcs11.wrapper.PKCS11Constants.*;

public class HpkiSign {
	private static final long USER_CONTEXT_SPECIFIC = 2L; // CKU_CONTEXT_SPECIFIC, absent from JDK 17's constants

	public static void main(String[] args) throws Exception {
		if (args.length != 5) {
			System.err.println("usage: HpkiSign MODULE TOKEN-LABEL PIN IN-FILE OUT-SIGNATURE");
			System.exit(2);
		}
		PKCS11 p11 = PKCS11.getInstance(args[0], "C_GetFunctionList", null, false);
		long slot = -1;
		for (long s : p11.C_GetSlotList(true))
			if (new String(p11.C_GetTokenInfo(s).label).trim().equals(args[1]))
				slot = s;
		if (slot < 0)
			throw new Exception("no token labelled '" + args[1] + "'");
		char[] pin = args[2].toCharArray();
		long session = p11.C_OpenSession(slot, CKF_SERIAL_SESSION, null, null);
		p11.C_Login(session, CKU_USER, pin);
		p11.C_FindObjectsInit(session, new CK_ATTRIBUTE[] { new CK_ATTRIBUTE(CKA_CLASS, CKO_PRIVATE_KEY) });
		long[] keys = p11.C_FindObjects(session, 2);
		p11.C_FindObjectsFinal(session);
		if (keys.length != 1)
			throw new Exception(keys.length + " private keys on the token, expected 1");
		CK_ATTRIBUTE[] always = { new CK_ATTRIBUTE(CKA_ALWAYS_AUTHENTICATE) };
		p11.C_GetAttributeValue(session, keys[0], always);
		Object value = always[0].pValue; // JDK 17 returns this CK_BBOOL as byte[]
		boolean reauth = value instanceof Boolean ? (Boolean) value
			: value instanceof byte[] && ((byte[]) value).length == 1 && ((byte[]) value)[0] != 0;
		p11.C_SignInit(session, new CK_MECHANISM(CKM_SHA256_RSA_PKCS), keys[0]);
		if (reauth) {
			System.out.println("CKA_ALWAYS_AUTHENTICATE: context-specific login before the signature");
			p11.C_Login(session, USER_CONTEXT_SPECIFIC, pin);
		}
		byte[] signature = p11.C_Sign(session, Files.readAllBytes(Paths.get(args[3])));
		Files.write(Paths.get(args[4]), signature);
		System.out.println("signed " + args[3] + ": " + signature.length + "-byte signature in " + args[4]);
		p11.C_Logout(session);
		p11.C_CloseSession(session);
	}
}
