# SPDX-License-Identifier: MIT
# The libraries an example links besides libgoro, for every makefile that
# builds the examples (examples/, userlib/, the top level's demo):
#   EXLIBS_name         the libraries of a dynamic link
#   EXLIBS_STATIC_name  those of a -static link (what they need in turn)
#   EXNEEDS_name        the files the compiler must find; an example whose
#                       files it does not find (a cross build without
#                       them) is left out: $(call ex_buildable,NAMES)
# The Debian packages: libssl-dev, libsqlite3-dev (scripts/deps).
EXLIBS_tls_echo := -lssl -lcrypto
EXLIBS_STATIC_tls_echo := -lssl -lcrypto -ldl -pthread
EXNEEDS_tls_echo := libssl.a libcrypto.a
EXLIBS_sqlite := -lsqlite3
EXLIBS_STATIC_sqlite := -lsqlite3 -lm -ldl -pthread
EXNEEDS_sqlite := libsqlite3.a

ex_missing = $(foreach l,$(EXNEEDS_$(1)),\
	$(if $(filter /%,$(shell $(CC) -print-file-name=$(l))),,$(l)))
ex_buildable = $(foreach e,$(1),$(if $(strip $(call ex_missing,$(e))),,$(e)))
