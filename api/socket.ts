// Where sockpitd listens unless told otherwise (config `socket`, $SOCKPIT_SOCKET, --socket).

export const DEFAULT_SOCKET = '/run/sockpit/sockpitd.sock';
