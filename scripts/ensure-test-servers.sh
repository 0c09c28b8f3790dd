#!/bin/sh
# Makes sure what the tests need is installed: OpenLDAP (slapd,
# ldap-utils), Samba as an AD domain controller, openssl for throwaway certificates, and Debian's
# chromium for the web view's browser test, systemd-analyze to check the shipped service units.
# Installs them with apt-get when missing (as root, or through passwordless sudo); otherwise says
# exactly what to install. Services are not started: the tests run their own private servers.
set -eu

missing=""
for cmd in slapd:slapd ldapadd:ldap-utils ldapsearch:ldap-utils samba:samba samba-tool:samba openssl:openssl chromium:chromium systemd-analyze:systemd; do
  bin=${cmd%%:*}; pkg=${cmd#*:}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
  fi
done
[ -f /usr/lib/ldap/back_mdb.so ] || case " $missing " in *" slapd "*) ;; *) missing="$missing slapd" ;; esac
# samba-tool cannot provision a domain without these files; the package is only a Recommends of samba.
[ -d /usr/share/samba/setup/ad-schema ] || missing="$missing samba-ad-provision"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
  echo "dirbridge tests need:$missing winbind krb5-user" >&2
  echo "install them as root:  apt-get install -y$missing winbind krb5-user" >&2
  exit 1
fi

echo "installing test servers:$missing winbind krb5-user" >&2
export DEBIAN_FRONTEND=noninteractive
# Preseed the questions the packages ask, and keep apt from starting system services of its own.
printf '%s\n' \
  'slapd slapd/no_configuration boolean true' \
  'krb5-config krb5-config/default_realm string DIRBRIDGE.TEST' \
  'krb5-config krb5-config/add_servers_realm string DIRBRIDGE.TEST' \
  'krb5-config krb5-config/kerberos_servers string' \
  'krb5-config krb5-config/admin_server string' | $SUDO debconf-set-selections
policy_created=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_created=1
fi
status=0
{ $SUDO apt-get update -q && $SUDO apt-get install -y -q$missing winbind krb5-user samba-ad-provision samba-dsdb-modules samba-vfs-modules; } || status=$?
[ -n "$policy_created" ] && $SUDO rm -f /usr/sbin/policy-rc.d
if [ "$status" != 0 ]; then
  echo "apt-get could not install the test servers (exit $status); see the output above" >&2
  exit "$status"
fi
