// Shown instead of the views while the web panel's server refuses this browser (no valid sign-in cookie): how to
// sign in, rather than a page of failed calls. The bridge keeps retrying, so signing in in another tab is enough.

export function SignedOut() {
  return (
    <section className="card signed-out" role="alert" aria-labelledby="signed-out-title">
      <h2 id="signed-out-title">Signed out of this panel</h2>
      <p>
        Open the URL <code>sockpit panel</code> printed when it started (it ends in <code>?token=…</code>), or run{' '}
        <code>sockpit panel --show-url</code> as the user who started it to print that URL again.
      </p>
      <p className="muted small-text">The token changes each time the panel starts, so an older link or an older tab no longer signs in.</p>
    </section>
  );
}
