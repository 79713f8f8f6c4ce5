# CETCD_REQUIRE_PKG(VAR, MODULES, DEBIAN-PACKAGE)
# pkg-config check that stops configure with the Debian package to install.
AC_DEFUN([CETCD_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found ($$1_PKG_ERRORS); install the Debian package: $3 (deploy/install-deps installs everything)])])
])

# CETCD_ADD_CFLAG(VAR, FLAG)
# Append FLAG to VAR when the C compiler accepts it.
AC_DEFUN([CETCD_ADD_CFLAG], [
  AS_VAR_PUSHDEF([cache], [cetcd_cv_cflag_$2])
  AC_CACHE_CHECK([whether $CC accepts $2], [cache], [
    cetcd_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $2"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [AS_VAR_SET([cache], [yes])], [AS_VAR_SET([cache], [no])])
    CFLAGS=$cetcd_save_CFLAGS
  ])
  AS_VAR_IF([cache], [yes], [$1="$$1 $2"])
  AS_VAR_POPDEF([cache])
])
