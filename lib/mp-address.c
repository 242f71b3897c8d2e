/* mp-address.c — "unix:/path" and "[tcp:]HOST:PORT", parsed and written
 *
 * GLib splits a host from its port (g_network_address_parse(), brackets
 * around IPv6 included) and resolves it; what is ours is strictness. An
 * address is typed by people and copied between programs, and a silently
 * misread one connects to the wrong thing: so a port is required and in
 * digits, an IPv6 host takes brackets, and a host name is checked.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/un.h>

#include "mpshare.h"
#include "mp-address-private.h"

#define HOST_NAME_MAX_LEN 253

/* Every bad address is reported this way: what is wrong, then the forms
 * that work. */
gboolean
mp_address_bad (GError    **error,
                const char *text,
                const char *why)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "Bad address \"%s\": %s. Use \"unix:/absolute/path\","
                " \"tcp:HOST:PORT\" or \"HOST:PORT\"", text, why);
  return FALSE;
}

static gboolean
parse_unix (const char *text,
            const char *path,
            MpAddress  *out,
            GError    **error)
{
  if (path[0] != '/')
    return mp_address_bad (error, text, "a Unix socket path must be absolute");
  if (strlen (path) >= sizeof ((struct sockaddr_un *) NULL)->sun_path)
    return mp_address_bad (error, text, "the socket path is too long for a Unix socket");
  out->path = g_strdup (path);
  return TRUE;
}

static gboolean
is_host_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_';
}

/* Digits only: GLib would also look a name up in /etc/services ("http"),
 * which here is more likely a typo. */
static gboolean
is_port_number (const char *text)
{
  gsize len = strlen (text);

  if (len == 0 || len > 5)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

static gboolean
check_host (const char *text,
            const char *host,
            gboolean    bracketed,
            GError    **error)
{
  if (bracketed)
    {
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        return mp_address_bad (error, text, "the part in brackets is not an IPv6 address");
      return TRUE;
    }
  if (host[0] == '\0')
    return mp_address_bad (error, text, "no host (127.0.0.1 for this machine;"
                           " 0.0.0.0 for all interfaces, where anyone who"
                           " reaches the port can try keys)");
  if (strlen (host) > HOST_NAME_MAX_LEN)
    return mp_address_bad (error, text, "the host name is too long");
  for (const char *c = host; *c != '\0'; c++)
    if (!is_host_name_char (*c))
      return mp_address_bad (error, text, "the host is neither an address nor a host name");
  return TRUE;
}

/* Where GLib would read more than we do: "HOST" and "[IPV6]" with a
 * default port, and an IPv6 address without brackets, whose last group
 * a reader may take for a port. */
static gboolean
check_host_port_form (const char *text,
                      const char *rest,
                      const char *colon,
                      GError    **error)
{
  g_autofree char *host = NULL;

  if (colon == NULL)
    return mp_address_bad (error, text, "no port");
  if (rest[0] == '[')
    {
      if (g_str_has_suffix (rest, "]"))
        return mp_address_bad (error, text, "no port (an IPv6 host is written"
                               " [ADDRESS]:PORT)");
      if (colon == rest || colon[-1] != ']')
        return mp_address_bad (error, text, "an IPv6 host is written [ADDRESS]:PORT");
      return TRUE;
    }
  if (strchr (rest, ':') == colon)
    return TRUE;
  host = g_strndup (rest, (gsize) (colon - rest));
  if (g_hostname_is_ip_address (host) || g_hostname_is_ip_address (rest))
    return mp_address_bad (error, text, "an IPv6 host is written [ADDRESS]:PORT");
  return mp_address_bad (error, text, "the host is neither an address nor a host name");
}

static gboolean
parse_network (const char *text,
               const char *rest,
               MpAddress  *out,
               GError    **error)
{
  const char *colon = strrchr (rest, ':');
  g_autoptr(GSocketConnectable) network = NULL;
  g_autoptr(GError) glib_error = NULL;

  if (!check_host_port_form (text, rest, colon, error))
    return FALSE;
  if (!is_port_number (colon + 1))
    return mp_address_bad (error, text, "the port must be a number from 0 to 65535");

  network = g_network_address_parse (rest, 0, &glib_error);
  if (network == NULL)
    {
      /* the form is checked, the port is digits: GLib has only the
       * port's range left to refuse */
      g_debug ("address %s: %s", text, glib_error->message);
      return mp_address_bad (error, text, "the port must be a number from 0 to 65535");
    }
  if (!check_host (text, g_network_address_get_hostname (G_NETWORK_ADDRESS (network)),
                   rest[0] == '[', error))
    return FALSE;
  out->network = g_steal_pointer (&network);
  return TRUE;
}

/**
 * mp_address_parse:
 * @text: "unix:/absolute/path", "tcp:HOST:PORT" or "HOST:PORT" (an IPv6
 *   host in brackets)
 * @out: (out caller-allocates): the address; clear it with
 *   mp_address_clear()
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_INVALID_ARGUMENT saying what
 *   is wrong and which forms work.
 */
gboolean
mp_address_parse (const char *text,
                  MpAddress  *out,
                  GError    **error)
{
  memset (out, 0, sizeof *out);

  if (g_str_has_prefix (text, "unix:"))
    return parse_unix (text, text + strlen ("unix:"), out, error);
  if (g_str_has_prefix (text, "tcp:"))
    return parse_network (text, text + strlen ("tcp:"), out, error);
  return parse_network (text, text, out, error);
}

void
mp_address_clear (MpAddress *self)
{
  g_clear_pointer (&self->path, g_free);
  g_clear_object (&self->network);
}

/* the host without brackets */
const char *
mp_address_get_host (const MpAddress *self)
{
  return g_network_address_get_hostname (G_NETWORK_ADDRESS (self->network));
}

guint16
mp_address_get_port (const MpAddress *self)
{
  return g_network_address_get_port (G_NETWORK_ADDRESS (self->network));
}

/* A host name that does not resolve, in our words; GLib's follow. */
void
mp_address_set_resolve_error (GError         **error,
                              const MpAddress *self,
                              const GError    *resolver_error)
{
  mp_set_error (error, MP_ERROR_FAILED,
                "Cannot resolve host \"%s\": %s. Check the name, or use"
                " an IP address", mp_address_get_host (self),
                resolver_error != NULL ? resolver_error->message : "no address");
}

/* The first address a TCP address names, through the resolver for a
 * host name (this blocks); numbers are used as they are. */
GSocketAddress *
mp_address_resolve (const MpAddress *self,
                    GError         **error)
{
  g_autoptr(GSocketAddressEnumerator) addresses = NULL;
  g_autoptr(GError) local_error = NULL;
  GSocketAddress *first;

  addresses = g_socket_connectable_enumerate (self->network);
  first = g_socket_address_enumerator_next (addresses, NULL, &local_error);
  if (first == NULL)
    mp_address_set_resolve_error (error, self, local_error);
  return first;
}

/* "tcp:IP:PORT", "tcp:[IPV6]:PORT": what mp_address_parse() reads back. */
char *
mp_address_format (GSocketAddress *address)
{
  g_autofree char *host_port = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

  return g_strconcat ("tcp:", host_port, NULL);
}
