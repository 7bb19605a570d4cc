// The desktop app never runs as root: it is only a client of sockpitd's socket, and as root Chromium would have
// to run without its sandbox. Root is refused before anything else starts, with what to do instead. Pure, so it
// is unit-tested under plain Node.

/** The message to exit with when the app is started as root (uid 0), or null when it may run. */
export function refusalAsRoot(uid: number | undefined): string | null {
  if (uid !== 0) return null;
  return [
    'sockpit: the panel app does not run as root.',
    '  Start sockpitd as a service (`sudo systemctl start sockpitd`) or with `sudo sockpit daemon`,',
    '  then run the app as your own user (a member of the `sockpit` group, which may open the socket).',
    '  `sudo npm start` does both for you: it runs the daemon as root and the panel as you.',
  ].join('\n');
}
