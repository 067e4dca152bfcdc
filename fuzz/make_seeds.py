#!/usr/bin/env python3
# Writes the seed frames in fuzz/corpus/ that exercise envelopes (docs/wire.md): payloads of the
# test types (tests/transport/wire_messages.hpp), type numbers, handle references, and the inputs
# of fixed bugs. Run from the repository root after a change to the wire format; needs the capnp
# tool (package capnproto). The other seeds (hello, proof, ...) stay as they are.
import struct
import subprocess
def h(b): return '0x"' + b.hex() + '"'
def s(x): return struct.pack('<I', len(x)) + x
def env(receiver, type_id, payload=None, name=None, sender=0, request_id=0, kind='message'):
    f = [f'sender = {sender}', f'receiver = {receiver}', f'typeId = {type_id}', f'requestId = {request_id}', f'kind = {kind}']
    if name is not None: f.append(f'messageType = "{name}"')
    if payload is not None: f.append(f'payload = {h(payload)}')
    return '(' + ', '.join(f) + ')'
def frame(envs): return '(envelopes = [' + ', '.join(envs) + '])'
def encode(text, path):
    out = subprocess.run(['capnp','encode','-I/usr/include','transport/schema/wire.capnp','Frame'], input=text.encode(), capture_output=True, check=True).stdout
    open(path,'wb').write(out)
ping = struct.pack('<i', 41) + s(b'hi') + struct.pack('<I', 2) + struct.pack('<qq', 1, 2)
pong = struct.pack('<i', 42) + s(b'hi') + struct.pack('<q', 3)
on_node = b'\x02' + s(b'b') + s(b'127.0.0.1') + struct.pack('<HQ', 4000, 7)
encode(frame([
  env(1, 1, ping, 'Ping', sender=7, request_id=3, kind='request'),
  env(2, 2, pong, 'Pong', request_id=3, kind='response'),
  env(1, 1, ping),
  env(1, 3, None, 'RefusedCount'),
  env(1, 4, b'\x01' + s(b'bad'), 'troupe.Error', kind='response'),
  env(1, 5, on_node, 'HandleProbe'),
  env(1, 5, b'\x01' + struct.pack('<Q', 5)),
  env(1, 5, b'\x00'),
]), 'fuzz/corpus/envelopes')
encode(frame([env(1, 1, b')', 'bool', sender=7, request_id=3, kind='request')]), 'fuzz/corpus/regression-bool-byte-41')
encode(frame([env(1, 1, b'\x01\x00', 'Ping'), env(1, 2), env(1, 0, None, 'Pong')]), 'fuzz/corpus/type_numbers_refused')
