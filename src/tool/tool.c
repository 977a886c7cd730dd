/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: the card holder's own command line (issue 13). Dispatches to one
 * command per file; every command has --help.
 */
#include "config.h"

#include "tool.h"

#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "%s", _("Usage: hpki-tool COMMAND [OPTIONS]\n"
			     "Commands for HPKI healthcare cards (医師資格証):\n"
			     "  status               readers, cards, holders, certificates, PIN tries left\n"
			     "  sign FILE            detached CMS signature with the signature key\n"
			     "  verify FILE SIG      check a detached CMS signature and show the signer\n"
			     "  attend --csv FILE    seminar check-in: one CSV row per card tapped\n"
			     "  diagnose --out FILE  a report of how the card answers, without personal data\n"
			     "Run \"hpki-tool COMMAND --help\" for the options of a command.\n"
			     "See hpki-tool(1).\n"));
}

void hpki_tool_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("hpki-tool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The hcRole strings known from the CP and the MEDIS test certificate (facts §7),
 * for the translation (po/ja.po); other roles are shown as the certificate says. */
static const char *const known_roles[] = {
	N_("Medical Doctor"), N_("Dentist"), N_("Pharmacist"), N_("Nurse"), N_("Midwife"),
	N_("Public Health Nurse"), N_("Director of Hospital"), N_("Director of Clinic"),
};

const char *hpki_tool_role_text(const char *role)
{
	static char both[256];

	for (size_t i = 0; i < sizeof(known_roles) / sizeof(known_roles[0]); i++) {
		const char *local = _(known_roles[i]);

		if (strcmp(role, known_roles[i]) != 0)
			continue;
		if (strcmp(local, role) == 0)
			return role;
		/* Translated: both, so that the certificate's own words stay visible. */
		snprintf(both, sizeof(both), "%s (%s)", local, role);
		return both;
	}
	return role;
}

/* Where the translations are: the installed locale directory; HPKI_TOOL_LOCALEDIR for
 * the tests of an uninstalled build. */
static void init_messages(void)
{
	const char *dir = getenv("HPKI_TOOL_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(HPKI_TOOL_DOMAIN, dir != NULL && *dir != '\0' ? dir : HPKI_TOOL_LOCALEDIR);
	bind_textdomain_codeset(HPKI_TOOL_DOMAIN, "UTF-8");
	textdomain(HPKI_TOOL_DOMAIN);
}

time_t hpki_tool_now(void)
{
	const char *env = getenv("HPKI_TOOL_NOW");

	if (env != NULL && *env != '\0')
		return (time_t)strtoll(env, NULL, 10);
	return time(NULL);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "status", hpki_tool_status },
		{ "sign", hpki_tool_sign },
		{ "verify", hpki_tool_verify },
		{ "attend", hpki_tool_attend },
		{ "diagnose", hpki_tool_diagnose },
	};

	init_messages();
	if (argc < 2) {
		usage(stderr);
		return HPKI_TOOL_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HPKI_TOOL_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hpki-tool %s\n", PACKAGE_VERSION);
		return HPKI_TOOL_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	hpki_tool_error(_("unknown command \"%s\""), argv[1]);
	usage(stderr);
	return HPKI_TOOL_USAGE;
}
