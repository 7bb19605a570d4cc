// The errors a decoder throws for what it can't accept. Every frame the daemon decodes comes from a process
// that runs untrusted code (a Zygote imports packages, an instance runs a function), so a malformed frame is
// an expected event with a name, never a crash: the caller catches ProtocolError and ends the sender.

/** A frame or message that breaks the protocol (docs/ARCHITECTURE.md, "Protocol"). */
export class ProtocolError extends SyntaxError {
  override name = 'ProtocolError';
}

/** A frame that announces more bytes than the channel accepts; nothing of it was buffered. */
export class FrameTooLarge extends ProtocolError {
  override name = 'FrameTooLarge';
}

/** A reply that carries another request id than the call waiting for it: a forged or late reply. */
export class ForeignReply extends ProtocolError {
  override name = 'ForeignReply';
}
