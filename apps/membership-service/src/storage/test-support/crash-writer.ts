// A child process for the crash test: writes events into a SQLite storage
// from many rooms at once and prints `ack <eventId>` for each transaction as
// soon as the storage reports it committed. The test kills it with SIGKILL
// at some point and then checks that every acknowledged event is stored.
//   node --import tsx crash-writer.ts <database file>
import { openStorage } from '../open-storage.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: crash-writer.ts <database file>');
const storage = await openStorage({ engine: 'sqlite', path });
const ROOMS = 8;
const PER_ROOM = 5_000; // far more than the test waits for: it kills the process first

await Promise.all(
  Array.from({ length: ROOMS }, async (_, r) => {
    const roomId = `!crash${r}:hs.test`;
    for (let i = 0; i < PER_ROOM; i++) {
      const eventId = `$r${r}_${i}`;
      await storage.withRoomTransaction(roomId, async (tx) => {
        await tx.insertEvent({
          eventId,
          roomId,
          type: 'm.room.message',
          stateKey: null,
          sender: '@a:hs.test',
          depth: i + 1,
          originServerTs: i,
          json: JSON.stringify({ n: i }),
        });
        await tx.setForwardExtremities([eventId]);
      });
      process.stdout.write(`ack ${eventId}\n`);
    }
  }),
);
await storage.close();
