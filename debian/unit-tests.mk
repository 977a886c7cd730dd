# Read together with the build's Makefile by debian/rules: every test of make check
# but the end-to-end ones (*.e2e), which need root, namespaces and a pcscd.
print-unit-tests:
	@echo $(filter-out %.e2e,$(TESTS))
