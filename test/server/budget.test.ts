// The server-wide budgets: past half the body budget a connection gets only its fair share; output
// stops when the total is spent and the connection holds more than its fair share; waiters wake on a later turn once the total is below half.
import { describe, expect, test } from "bun:test";
import { Budget, type BudgetWaiter } from "../../src/server/budget.ts";

class Waiter implements BudgetWaiter {
  woken = 0;
  onBudget(): void {
    this.woken++;
  }
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe("bodyRoom / outputOver", () => {
  test("no limit while the total is under half the budget, however much one connection holds", () => {
    const b = new Budget(1000, 1000);
    b.addBody(499);
    b.receiving = 1;
    expect(b.bodyRoom(499)).toBe(Number.POSITIVE_INFINITY);
    b.addOutput(999);
    b.sending = 1;
    expect(b.outputOver(999)).toBe(false);
  });

  test("past half: a connection may take its fair share less what it holds; output stops above a fair share", () => {
    const b = new Budget(1000, 1000);
    b.addBody(500);
    b.receiving = 4; // fair share: 250
    expect(b.bodyRoom(300)).toBe(0);
    expect(b.bodyRoom(250)).toBe(0);
    expect(b.bodyRoom(100)).toBe(150);
    expect(b.bodyRoom(0)).toBe(250);
    b.addOutput(1200);
    b.sending = 3; // fair share: 333
    expect(b.outputOver(400)).toBe(true);
    expect(b.outputOver(300)).toBe(false);
  });

  test("with no connection counted, the share is the whole budget", () => {
    const b = new Budget(1000, 1000);
    b.addBody(1000);
    expect(b.bodyRoom(1000)).toBe(0);
    expect(b.bodyRoom(999)).toBe(1);
  });
});

describe("waiting", () => {
  test("waiters wake on a later turn once the total falls below half, not at once", async () => {
    const b = new Budget(1000, 1000);
    const w = new Waiter();
    b.addBody(1000);
    b.wait(w);
    b.takeBody(400); // 600 held: not below half
    await nextTurn();
    expect(w.woken).toBe(0);
    b.takeBody(200); // 400: below half
    expect(w.woken).toBe(0); // never inside the caller's callback
    await nextTurn();
    expect(w.woken).toBe(1);
  });

  test("a waiter wakes once, and must wait again to be woken again", async () => {
    const b = new Budget(1000, 1000);
    const w = new Waiter();
    b.addOutput(1000);
    b.wait(w);
    b.wait(w);
    b.takeOutput(900);
    b.takeOutput(50);
    await nextTurn();
    await nextTurn();
    expect(w.woken).toBe(1);
    b.addOutput(10);
    b.takeOutput(10);
    await nextTurn();
    expect(w.woken).toBe(1);
  });

  test("every waiter wakes; a forgotten one does not", async () => {
    const b = new Budget(1000, 1000);
    const [x, y, z] = [new Waiter(), new Waiter(), new Waiter()];
    b.addBody(1000);
    for (const w of [x, y, z]) b.wait(w);
    b.forget(y);
    b.takeBody(1000);
    await nextTurn();
    expect([x.woken, y.woken, z.woken]).toEqual([1, 0, 1]);
  });

  test("a waiter that waits again while being woken is kept for the next wake", async () => {
    const b = new Budget(1000, 1000);
    let calls = 0;
    const w: BudgetWaiter = {
      onBudget() {
        calls++;
        if (calls === 1) b.wait(w);
      },
    };
    b.addBody(1000);
    b.wait(w);
    b.takeBody(1000);
    await nextTurn();
    expect(calls).toBe(1);
    b.addBody(10);
    b.takeBody(10);
    await nextTurn();
    expect(calls).toBe(2);
  });
});
