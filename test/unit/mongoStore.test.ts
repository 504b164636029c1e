import * as assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { openMongoStore, redactUri } from "../../src/adapters/store/mongo/mongoStore";
import { StoreError } from "../../src/core/store/port";
import { describeStoreConformance } from "../store/conformance";

// The conformance suite runs against a real MongoDB only when one is given; none can be
// installed on the machines this project is built on (see the README's Tests section).
const uri = process.env.REDGREEN_TEST_MONGODB_URI;

function withDatabase(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

if (uri) {
  describeStoreConformance("mongodb", {
    open: (key, options) => openMongoStore(withDatabase(uri, key), options),
    drop: async (key) => {
      const client = await MongoClient.connect(uri);
      try {
        await client.db(key).dropDatabase();
      } finally {
        await client.close();
      }
    },
  });
} else {
  describe("store conformance: mongodb", () => {
    it("runs against a MongoDB server given in REDGREEN_TEST_MONGODB_URI", function () {
      console.log("\n    *** SKIPPED: MongoDB store conformance. Set REDGREEN_TEST_MONGODB_URI (e.g. mongodb://127.0.0.1:27017) to run it. ***\n");
      this.skip();
    });
  });
}

describe("MongoDB adapter without a server", () => {
  it("never shows credentials in its location", () => {
    assert.equal(redactUri("mongodb://alice:s3cret@db.example:27017/redgreen"), "mongodb://db.example:27017/redgreen");
    assert.equal(redactUri("mongodb+srv://alice@cluster0.example/"), "mongodb+srv://cluster0.example/");
    assert.equal(redactUri("mongodb://127.0.0.1:27017"), "mongodb://127.0.0.1:27017");
    assert.equal(redactUri("mongodb://bob:pw@h1:27017,h2:27018/db?replicaSet=rs0"), "mongodb://h1:27017,h2:27018/db?replicaSet=rs0");
  });

  it("says where it could not connect, without the password", async () => {
    // Port 1 on loopback: nothing listens, so the driver gives up after the selection timeout.
    await assert.rejects(
      openMongoStore("mongodb://alice@127.0.0.1:1/redgreen", { password: "hunter2", serverSelectionTimeoutMS: 300 }),
      (error: Error) => {
        assert.ok(error instanceof StoreError);
        assert.match(error.message, /cannot connect to MongoDB at mongodb:\/\/127\.0\.0\.1:1\/redgreen/);
        assert.doesNotMatch(error.message, /hunter2|alice/);
        return true;
      },
    );
  });

  it("accepts a replica set's URI with several hosts", async () => {
    await assert.rejects(
      openMongoStore("mongodb://alice@127.0.0.1:1,127.0.0.1:2/redgreen?replicaSet=rs0", { password: "hunter2", serverSelectionTimeoutMS: 300 }),
      (error: Error) => {
        assert.match(error.message, /^cannot connect to MongoDB at mongodb:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2\/redgreen\?replicaSet=rs0: /);
        assert.doesNotMatch(error.message, /Invalid URL|hunter2/);
        return true;
      },
    );
  });
});
