import engineio_fast as engineio
import asyncio

eio = engineio.AsyncServer(async_mode='asgi')

# Background task for periodic cleanup
cleanup_task = None

async def startup():
    """Application startup tasks"""
    global cleanup_task
    print('Starting up...')
    
    async def periodic_cleanup():
        while True:
            await asyncio.sleep(300)  # 5 minutes
            print('Running periodic cleanup...')
    
    cleanup_task = asyncio.create_task(periodic_cleanup())

async def shutdown():
    """Application shutdown tasks"""
    global cleanup_task
    print('Shutting down...')
    
    if cleanup_task:
        cleanup_task.cancel()
        try:
            await cleanup_task
        except asyncio.CancelledError:
            pass

# Create ASGI app with lifespan management
app = engineio.ASGIApp(
    eio,
    on_startup=startup,
    on_shutdown=shutdown
)
