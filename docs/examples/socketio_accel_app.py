"""Without the switch: python-socketio on python-engineio, with
engineio_fast's manager and packet class through python-socketio's own
extension points."""
import os

import socketio

import engineio_fast.sio_accel
import engineio_fast.sio_packet

sio = socketio.AsyncServer(
    async_mode='asgi',
    client_manager=engineio_fast.sio_accel.AsyncManager(),  # Server: Manager()
    serializer=engineio_fast.sio_packet.packet_class())
app = socketio.ASGIApp(sio)


@sio.event
async def echo(sid, data):
    return data


if __name__ == '__main__':
    import uvicorn
    uvicorn.run(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))
