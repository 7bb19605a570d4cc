import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFibTrie, parseIfInet6, readHostAddresses } from './host-addresses';

const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 203.0.113.1
        /32 host LOCAL
     |-- 203.0.113.0
        /24 link UNICAST
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 203.0.113.1
        /32 host LOCAL
`;

test('fib_trie: every host LOCAL entry, once, with its prefix; routes and broadcasts left out', () => {
  assert.deepEqual(parseFibTrie(FIB_TRIE), ['127.0.0.0/8', '127.0.0.1/32', '203.0.113.1/32']);
});

test('if_inet6: every address, as /128', () => {
  const text = 'fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n';
  assert.deepEqual(parseIfInet6(text), ['0000:0000:0000:0000:0000:0000:0000:0001/128', 'fe80:0000:0000:0000:00fc:00ff:fe00:0001/128']);
});

test("this machine's addresses include its loopback", () => {
  assert.ok(readHostAddresses().includes('127.0.0.1/32'));
});
