// The protocol between sockpitd, its Zygotes and its instances (docs/ARCHITECTURE.md, "Protocol"): every
// message defined once here and once in service/runtime/protocol.py, both checked against the same encoded
// messages (service/test/fixtures/protocol-messages.json). Pure: no I/O.

export * from './errors';
export * from './framing';
export * from './flat-json';
export * from './instance-messages';
export * from './zygote-messages';
